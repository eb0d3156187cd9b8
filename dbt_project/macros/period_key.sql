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

{#- The earliest period a record may report: ten years before the initiative's reporting_start
    (a year typed wrong: 0205, 1025), else 1 January 1900. The latest is the day its file
    arrived (int_records_validated: "had not started"). A record outside is quarantined and
    never counts as a report (partner_period_reports), whatever its date. -#}
{% macro earliest_period() -%}
    coalesce(
        cast((select reporting_start from {{ ref('stg_registry__initiative') }})
            - interval 10 year as date),
        date '1900-01-01'
    )
{%- endmacro %}

{% macro period_is_plausible(period_start, arrived_at) -%}
    ({{ period_start }} >= {{ earliest_period() }}
        and {{ period_start }} <= cast({{ arrived_at }} as date))
{%- endmacro %}
