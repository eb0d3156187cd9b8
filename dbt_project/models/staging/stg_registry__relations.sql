select * from {{ source('registry', 'relations') }}
