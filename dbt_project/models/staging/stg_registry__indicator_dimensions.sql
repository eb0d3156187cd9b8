select * from {{ source('registry', 'indicator_dimensions') }}
