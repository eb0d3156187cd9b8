{#- Models whose rows depend only on one partner's records (outcomes, values, outliers): rebuilt
    partner by partner, for the partners whose records changed, their old rows deleted first
    (a partner left with no flag at all kept its old flags otherwise: delete_rows_to_rebuild). -#}
{% macro partner_incremental_config() -%}
    {{ keyed_incremental_config(
        'partner_key', 'partner_inputs', 'partner_inputs',
        "select partner_key from {{ ref('int_partner_inputs') }}") }}
{%- endmacro %}

{#- Per partner, the hash of its inputs (int_partner_inputs). -#}
{% macro partner_inputs() -%}
    select partner_key, partner_inputs from {{ ref('int_partner_inputs') }}
{%- endmacro %}

{#- The partners whose records changed since this partner-keyed model was built (all of them on
    its first build). -#}
{% macro changed_partners() -%}
    {{ not_yet_built(partner_inputs(), 'partner_key', 'partner_inputs') }}
{%- endmacro %}
