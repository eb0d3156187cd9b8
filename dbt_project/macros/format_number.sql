{#- A number as a partner would write it in a message: no trailing .0, up to 2 decimals. -#}
{% macro format_number(expression) -%}
    regexp_replace(regexp_replace(printf('%.2f', {{ expression }}), '0+$', ''), '\.$', '')
{%- endmacro %}
