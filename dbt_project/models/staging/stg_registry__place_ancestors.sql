select * from {{ source('registry', 'place_ancestors') }}
