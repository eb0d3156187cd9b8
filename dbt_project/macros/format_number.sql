{#- A number as people read it. Without decimals: as a partner would write it in a message (no
    trailing .0, up to 2 decimals). With decimals (the indicator's): thousands separators and
    exactly that many decimals (1942.54 with 0 -> '1,943'). -#}
{% macro format_number(expression, decimals=none) -%}
    {%- if decimals is none -%}
    regexp_replace(regexp_replace(printf('%.2f', {{ expression }}), '0+$', ''), '\.$', '')
    {%- else -%}
    format('{:,.{}f}', cast({{ expression }} as double), cast({{ decimals }} as integer))
    {%- endif -%}
{%- endmacro %}
