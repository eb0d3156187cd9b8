{#- Periods follow the initiative's period type (registry.initiative.period_type):
      month - key YYYY-MM, starting on the 1st;
      week  - key YYYY-Www (ISO week), starting on Monday.
    The Python twin is murmuration.registry.models.period_start. -#}
{% macro period_type() -%}
    (select period_type from {{ ref('stg_registry__initiative') }})
{%- endmacro %}

{% macro period_start_of(date_expression) -%}
    cast(date_trunc({{ period_type() }}, {{ date_expression }}) as date)
{%- endmacro %}

{% macro period_key(date_expression) -%}
    case {{ period_type() }}
        when 'week' then strftime({{ date_expression }}, '%G-W%V')
        else strftime({{ date_expression }}, '%Y-%m')
    end
{%- endmacro %}

{#- Consecutive periods have consecutive indexes (months since year 0, weeks since 1970). -#}
{% macro period_index(date_expression) -%}
    case {{ period_type() }}
        when 'week' then datediff('day', date '1970-01-05', {{ date_expression }}) // 7
        else year({{ date_expression }}) * 12 + month({{ date_expression }})
    end
{%- endmacro %}
