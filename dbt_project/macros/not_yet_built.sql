{#- The rows of ``inputs`` (a key and its fingerprint) that this model has not been built from
    yet: every row on its first or a full build. What each key was built from is recorded after
    each build (record_built_inputs); a table built before that was recorded is compared by its
    own rows' fingerprint column, if it has one. -#}
{% macro not_yet_built(inputs, key, fingerprint) -%}
    {%- set recorded = false -%}
    {%- if this is not none and is_incremental() -%}
        {%- set state = built_inputs_relation(fingerprint) -%}
        {%- set recorded = adapter.get_relation(
            database=state.database, schema=state.schema, identifier=state.identifier)
            is not none -%}
    {%- endif %}
    {%- set built = adapter.get_columns_in_relation(this) | map(attribute='name') | list
        if this is not none and is_incremental() and not recorded else [] -%}
    {%- if recorded -%}
        {{ inputs_not_built_in(inputs, key, fingerprint, state) }}
    {%- elif fingerprint in built -%}
        {{ inputs_not_built_in(inputs, key, fingerprint, this) }}
    {%- else -%}
        select inputs.{{ key }}, inputs.{{ fingerprint }} from ({{ inputs }}) as inputs
    {%- endif %}
{%- endmacro %}

{#- The rows of ``inputs`` whose key ``built`` (a relation with the key and fingerprint
    columns) does not hold with that fingerprint. -#}
{% macro inputs_not_built_in(inputs, key, fingerprint, built) -%}
    select inputs.{{ key }}, inputs.{{ fingerprint }}
    from ({{ inputs }}) as inputs
    where not exists (
        select 1 from {{ built }} as built
        where built.{{ key }} = inputs.{{ key }}
            and built.{{ fingerprint }} = inputs.{{ fingerprint }}
    )
{%- endmacro %}

{#- Where an incremental model's built inputs are recorded: schema incremental_state (never
    published), a table named after the model's schema and name and the fingerprint it keeps
    (a model keyed by another fingerprint since is not recorded yet: found by name alone, no
    query of its columns). -#}
{% macro built_inputs_relation(fingerprint) -%}
    {{ return(api.Relation.create(
        database=this.database, schema='incremental_state',
        identifier=this.schema ~ '__' ~ this.identifier ~ '__' ~ fingerprint)) }}
{%- endmacro %}

{#- After a build every key is built from its current inputs: record them (post_hook). -#}
{% macro record_built_inputs(inputs, key, fingerprint) -%}
    create or replace table {{ built_inputs_relation(fingerprint) }} as
    select inputs.{{ key }}, inputs.{{ fingerprint }}
    from ({{ inputs }}) as inputs
{%- endmacro %}
