-- The agreed indicator definitions, as the dashboard and the docs show them.
select * from {{ ref('stg_registry__indicators') }}
