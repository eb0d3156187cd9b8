select * from {{ source('registry', 'mappings') }}
