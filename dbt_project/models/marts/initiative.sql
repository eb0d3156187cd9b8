-- The initiative's name and description, for page titles.
select * from {{ ref('stg_registry__initiative') }}
