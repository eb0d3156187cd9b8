select * from {{ ref('stg_registry__place_ancestors') }}
