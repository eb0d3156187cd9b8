select * from {{ source('registry', 'places') }}
