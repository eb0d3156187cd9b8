{#- Incremental models rebuild only the submissions whose records or whose rules changed since
    they were built: new ones, ones mapped again (how their mapping reads files changed), a
    mapping's submissions when its codes, combos, units or settings changed, and every one when
    the registry or the project's SQL changed (build_fingerprint, see
    stg_landing__submissions); on a first or full build, every submission. -#}
{% macro changed_submissions() -%}
    {{ not_yet_built(submission_inputs(), 'submission_id', 'build_fingerprint') }}
{%- endmacro %}

{#- Per submission, what its build depends on (build_fingerprint). -#}
{% macro submission_inputs() -%}
    select submission_id, build_fingerprint from {{ ref('stg_landing__submissions') }}
{%- endmacro %}
