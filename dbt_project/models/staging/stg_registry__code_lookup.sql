select * from {{ source('registry', 'code_lookup') }}
