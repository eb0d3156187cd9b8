select * from {{ source('registry', 'categories') }}
