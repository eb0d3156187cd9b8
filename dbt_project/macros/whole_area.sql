{#- The whole area's place code as a SQL literal (var whole_area, dbt_project.yml). -#}
{% macro whole_area() -%}
    '{{ var("whole_area") }}'
{%- endmacro %}

{#- Every row of ``relation`` once for its own place and once for each place above it and the
    whole area, as total_place (stg_registry__place_ancestors): a value counts in the total of
    every level it belongs to; rows reported for the whole area count there once. -#}
{% macro with_places_above(relation) -%}
    select
        {{ relation }}.*,
        places_above.ancestor_code as total_place
    from {{ relation }}
    inner join {{ ref('stg_registry__place_ancestors') }} as places_above
        on {{ relation }}.place_code = places_above.place_code
{%- endmacro %}
