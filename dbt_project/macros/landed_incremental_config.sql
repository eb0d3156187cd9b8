{#- stg_landing__records: rebuilt submission by submission when its landed records or the
    project's SQL changed (records_fingerprint, see stg_landing__submissions), not when the
    registry or a mapping's codes did (those are resolved downstream); the rows of submissions
    no longer landed dropped. -#}
{% macro landed_incremental_config() -%}
    {{ keyed_incremental_config(
        'submission_id', 'records_fingerprint', 'landed_inputs',
        "select submission_id from {{ ref('stg_landing__submissions') }}") }}
{%- endmacro %}

{#- Per submission, what its staged records are built from (records_fingerprint). -#}
{% macro landed_inputs() -%}
    select submission_id, records_fingerprint from {{ ref('stg_landing__submissions') }}
{%- endmacro %}

{#- The submissions whose staged records are not built from their current landing yet. -#}
{% macro changed_landings() -%}
    {{ not_yet_built(landed_inputs(), 'submission_id', 'records_fingerprint') }}
{%- endmacro %}
