select * from {{ source('registry', 'initiative') }}
