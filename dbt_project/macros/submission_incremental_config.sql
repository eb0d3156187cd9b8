{#- Models whose rows depend only on one submission's records: rebuilt submission by
    submission (changed_submissions), and the rows of submissions no longer landed dropped. -#}
{% macro submission_incremental_config() -%}
    {{ keyed_incremental_config(
        'submission_id', 'build_fingerprint', 'submission_inputs',
        "select submission_id from {{ ref('stg_landing__submissions') }}") }}
{%- endmacro %}
