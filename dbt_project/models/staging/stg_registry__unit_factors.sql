select * from {{ source('registry', 'unit_factors') }}
