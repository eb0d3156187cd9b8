{#- The whole area's place code as a SQL literal (var whole_area, dbt_project.yml). -#}
{% macro whole_area() -%}
    '{{ var("whole_area") }}'
{%- endmacro %}

{#- Every row of ``relation`` at its own place and again for the whole area as
    total_place (rows reported for the whole area only count there once). -#}
{% macro with_whole_area(relation) -%}
    select {{ relation }}.*, {{ relation }}.place_code as total_place from {{ relation }}
    where place_code <> {{ whole_area() }}
    union all
    select {{ relation }}.*, {{ whole_area() }} as total_place from {{ relation }}
{%- endmacro %}
