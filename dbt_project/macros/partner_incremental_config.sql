{#- Models whose rows depend only on one partner's records (outcomes, values, outliers): rebuilt
    partner by partner, for the partners whose records changed, their old rows deleted first
    (a partner left with no flag at all kept its old flags otherwise: delete_rows_to_rebuild). -#}
{% macro partner_incremental_config() -%}
    {{ config(
        materialized='incremental',
        unique_key='partner_key',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        pre_hook="{{ delete_rows_to_rebuild('partner_key', changed_partners()) }}",
        post_hook="delete from {{ this }} where partner_key is null or partner_key not in "
                  ~ "(select coalesce(partner_code, '') from {{ ref('int_records_validated') }})"
    ) }}
{%- endmacro %}

{#- Per partner (records that name none: ''), a hash of the submissions its records come from
    and of their build: a partner whose hash is unchanged has the same records, judged by the
    same rules. -#}
{% macro partner_inputs() -%}
    select coalesce(partner_code, '') as partner_key,
        bit_xor(hash(submission_id || ':' || build_fingerprint)) as partner_inputs
    from (
        select distinct partner_code, submission_id, build_fingerprint
        from {{ ref('int_records_validated') }}
    )
    group by all
{%- endmacro %}

{#- The partners whose records changed since this partner-keyed model was built (all of them on
    its first build). -#}
{% macro changed_partners() -%}
    {{ not_yet_built(partner_inputs(), 'partner_key', 'partner_inputs') }}
{%- endmacro %}
