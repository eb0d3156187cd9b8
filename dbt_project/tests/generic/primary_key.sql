{#- The column is the table's key: never empty, never twice (dbt's unique and not_null in one
    pass over the table, one node instead of two). -#}
{% test primary_key(model, column_name) %}
select {{ column_name }}, count(*) as occurrences
from {{ model }}
group by {{ column_name }}
having count(*) > 1 or {{ column_name }} is null
{% endtest %}
