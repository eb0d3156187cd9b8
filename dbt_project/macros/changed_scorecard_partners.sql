{#- Per partner with a report expected or received, a hash of its records' inputs
    (partner_inputs), of the day it is judged on (which reports are due) and of the definitions:
    a partner whose hash is unchanged has the same scorecard. -#}
{% macro scorecard_inputs() -%}
    select
        reports.partner_code as partner_key,
        hash(
            coalesce(inputs.partner_inputs, 0), cast(initiative.as_of as date),
            initiative.definitions_fingerprint
        ) as partner_inputs
    from (select distinct partner_code from {{ ref('partner_period_reports') }}) as reports
    left join ({{ partner_inputs() }}) as inputs on reports.partner_code = inputs.partner_key
    cross join {{ ref('stg_registry__initiative') }} as initiative
{%- endmacro %}

{#- The partners whose scorecard changed since it was built (all of them on its first build). -#}
{% macro changed_scorecard_partners() -%}
    {{ not_yet_built(scorecard_inputs(), 'partner_key', 'partner_inputs') }}
{%- endmacro %}
