{#- A monthly period as text, YYYY-MM, from a date. -#}
{% macro period_key(date_expression) -%}
    strftime({{ date_expression }}, '%Y-%m')
{%- endmacro %}
