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
