{#- Incremental models rebuild only the submissions whose records or whose rules changed since
    they were built: new ones, ones mapped again (how their mapping reads files changed), a
    mapping's submissions when its codes, combos, units or settings changed, and every one when
    the registry or the project's SQL changed (build_fingerprint, see
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
