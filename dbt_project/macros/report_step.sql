{#- The length of one report period of a partner's cadence (week, month or quarter). -#}
{% macro report_step(grain_expression) -%}
    case {{ grain_expression }}
        when 'week' then interval 7 day
        when 'quarter' then interval 3 month
        else interval 1 month
    end
{%- endmacro %}

{#- The start of the report period of a partner's cadence that ``moment`` falls in, as a date. -#}
{% macro report_start_of(grain_expression, moment) -%}
    cast(date_trunc({{ grain_expression }}, {{ moment }}) as date)
{%- endmacro %}
