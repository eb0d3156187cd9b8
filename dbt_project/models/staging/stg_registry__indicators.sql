select * from {{ source('registry', 'indicators') }}
