{#- The config every keyed incremental model shares (by submission, partner or period): rebuild
    the keys whose inputs changed - ``inputs`` names a macro giving each key (``key``) with the
    hash of what its rows are built from (``fingerprint``) - their old rows deleted first
    (delete+insert alone replaces only the keys the new rows carry, so a key now giving no row
    at all kept its old ones: delete_rows_to_rebuild), drop the rows of keys no longer there
    (``kept``: a query of the keys still there) and record what every key was built from
    (record_built_inputs: a key giving no row is not rebuilt again next run). When most keys
    are to be built again, the model is built whole (keyed_by: should_full_refresh). -#}
{% macro keyed_incremental_config(key, fingerprint, inputs, kept) -%}
    {%- set changed = "not_yet_built(" ~ inputs ~ "(), '" ~ key ~ "', '" ~ fingerprint ~ "')" -%}
    {{ config(
        materialized='incremental',
        unique_key=key,
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        keyed_by={'key': key, 'fingerprint': fingerprint, 'inputs': inputs},
        pre_hook="{{ delete_rows_to_rebuild('" ~ key ~ "', " ~ changed ~ ") }}",
        post_hook=[
            "delete from {{ this }} where " ~ key ~ " is null or " ~ key ~ " not in (" ~ kept ~ ")",
            "create schema if not exists {{ built_inputs_relation('" ~ fingerprint
                ~ "').without_identifier() }}",
            "{{ record_built_inputs(" ~ inputs ~ "(), '" ~ key ~ "', '" ~ fingerprint ~ "') }}"]
    ) }}
{%- endmacro %}
