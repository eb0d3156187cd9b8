select * from {{ ref('stg_registry__places') }}
