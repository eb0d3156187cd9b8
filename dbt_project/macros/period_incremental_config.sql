{#- Models whose rows depend only on one period's units (int_indicator_units): rebuilt period by
    period, for the periods whose units changed, their old rows deleted first
    (delete_rows_to_rebuild), and the periods that no longer have a unit dropped. -#}
{% macro period_incremental_config() -%}
    {{ keyed_incremental_config(
        'period_start', 'period_inputs', 'period_inputs',
        "select period_start from {{ ref('int_period_inputs') }}") }}
{%- endmacro %}

{#- Per period, the hash of its units and the definitions (int_period_inputs). -#}
{% macro period_inputs() -%}
    select period_start, period_inputs from {{ ref('int_period_inputs') }}
{%- endmacro %}

{#- The periods whose units changed since this period-keyed model was built (all of them on its
    first build). -#}
{% macro changed_periods() -%}
    {{ not_yet_built(period_inputs(), 'period_start', 'period_inputs') }}
{%- endmacro %}
