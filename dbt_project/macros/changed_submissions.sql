{#- Incremental models rebuild only the submissions whose records or whose rules changed since
    they were built: new ones, ones mapped again (a mapping changed), and every one when the
    registry, the mappings or the project's SQL changed (build_fingerprint, see
    stg_landing__submissions); on a first or full build, every submission. -#}
{% macro changed_submissions() -%}
    {{ not_yet_built('select submission_id, build_fingerprint from '
                     ~ ref('stg_landing__submissions'), 'submission_id', 'build_fingerprint') }}
{%- endmacro %}

{#- The rows of ``inputs`` (a key and its fingerprint) that this model has not been built from
    yet: every row on its first build, or when it has no fingerprint column yet. -#}
{% macro not_yet_built(inputs, key, fingerprint) -%}
    {%- set built = adapter.get_columns_in_relation(this) | map(attribute='name') | list
        if this is not none and is_incremental() else [] -%}
    select inputs.{{ key }}, inputs.{{ fingerprint }}
    from ({{ inputs }}) as inputs
    {%- if fingerprint in built %}
    where not exists (
        select 1 from {{ this }} as built
        where built.{{ key }} = inputs.{{ key }}
            and built.{{ fingerprint }} = inputs.{{ fingerprint }}
    )
    {%- endif %}
{%- endmacro %}

{#- The config every submission-keyed incremental model shares: replace a submission's rows
    whole, and drop the rows of submissions that are no longer landed. The rows of every
    submission about to be built again are deleted first (pre_hook): delete+insert alone
    replaces only the keys the new rows carry, so a submission now giving no row at all kept
    its old ones. -#}
{% macro submission_incremental_config() -%}
    {{ config(
        materialized='incremental',
        unique_key='submission_id',
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        pre_hook="{{ delete_rows_to_rebuild('submission_id', changed_submissions()) }}",
        post_hook="delete from {{ this }} where submission_id not in "
                  ~ "(select submission_id from {{ ref('stg_landing__submissions') }})"
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

{#- Models whose rows depend only on one partner's records (outcomes, values, outliers): rebuilt
    partner by partner, for the partners whose records changed, their old rows deleted first
    (a partner left with no flag at all kept its old flags otherwise: see above). -#}
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

{#- The pre_hook of the incremental configs above: delete the rows of every key about to be
    built again. A table built before it had the key column (an older version's) is emptied:
    every key of it is rebuilt then anyway (it has no fingerprint either). -#}
{% macro delete_rows_to_rebuild(key, changed) -%}
    {%- if is_incremental() -%}
        {%- set built = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {%- if key in built -%}
            delete from {{ this }} where {{ key }} in (select {{ key }} from ({{ changed }}))
        {%- else -%}
            delete from {{ this }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
