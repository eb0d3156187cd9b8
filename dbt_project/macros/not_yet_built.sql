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
    select inputs.{{ key }}, inputs.{{ fingerprint }}
    from ({{ inputs }}) as inputs
    {%- if recorded %}
    where not exists (
        select 1 from {{ state }} as built
        where built.{{ key }} = inputs.{{ key }}
            and built.{{ fingerprint }} = inputs.{{ fingerprint }}
    )
    {%- elif fingerprint in built %}
    where not exists (
        select 1 from {{ this }} as built
        where built.{{ key }} = inputs.{{ key }}
            and built.{{ fingerprint }} = inputs.{{ fingerprint }}
    )
    {%- endif %}
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
