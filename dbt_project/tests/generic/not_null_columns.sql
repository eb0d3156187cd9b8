{#- None of `columns` is empty in any row (dbt's not_null for several columns in one pass over
    the table, one node instead of one per column); each failing row names its empty columns. -#}
{% test not_null_columns(model, columns) %}
select *
from (
    select
        concat_ws(', '
            {%- for column in columns %}, case when {{ column }} is null then '{{ column }}' end
            {%- endfor %}) as empty_columns
    from {{ model }}
)
where empty_columns <> ''
{% endtest %}
