select * from {{ source('registry', 'partners') }}
