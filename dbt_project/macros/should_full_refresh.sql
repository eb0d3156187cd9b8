{#- dbt's should_full_refresh (--full-refresh, or a model's full_refresh config), and one case
    more: a keyed incremental model (keyed_incremental_config) most of whose keys are to be
    built again - from other inputs than recorded - is built whole, as on its first build.
    Deleting and inserting most of a table costs more than writing it anew (every key of the
    benchmark's 4 M values built again key by key: 146 s of dbt, against 97 s built whole, the
    first run after a registry change), and a whole build gives the same rows
    (tests/dbt/test_incremental.py). The share is the project's var rebuild_whole_from, or
    MURMURATION_REBUILD_WHOLE_FROM (above 1: never). -#}
{% macro should_full_refresh() %}
    {%- set config_full_refresh = config.get('full_refresh') -%}
    {%- if config_full_refresh is none -%}
        {%- set config_full_refresh = flags.FULL_REFRESH -%}
    {%- endif -%}
    {%- set keyed = config.get('keyed_by') -%}
    {%- if config_full_refresh or not execute or keyed is none -%}
        {%- do return(config_full_refresh) -%}
    {%- endif -%}
    {#- Asked several times a node (is_incremental, the hooks, the materialization): the
        answer is kept on the node's context for the rest of the node. -#}
    {%- if model is mapping and 'murmuration_built_whole' in model -%}
        {%- do return(model['murmuration_built_whole']) -%}
    {%- endif -%}
    {%- set whole = most_keys_to_build(keyed) -%}
    {%- if model is mapping -%}
        {%- do model.update({'murmuration_built_whole': whole}) -%}
    {%- endif -%}
    {%- do return(whole) -%}
{% endmacro %}

{#- Whether at least rebuild_whole_from of the model's keys were built from other inputs than
    they have now (or nothing is recorded: every key would be built again). -#}
{% macro most_keys_to_build(keyed) %}
    {%- set state = built_inputs_relation(keyed['fingerprint']) -%}
    {%- if adapter.get_relation(database=state.database, schema=state.schema,
                                identifier=state.identifier) is none -%}
        {%- do return(true) -%}
    {%- endif -%}
    {%- set inputs = keyed_inputs(keyed['inputs']) -%}
    {%- set query -%}
        select
            (select count(*) from (
                {{ inputs_not_built_in(inputs, keyed['key'], keyed['fingerprint'], state) }}
            )) as to_build,
            (select count(*) from ({{ inputs }})) as keys
    {%- endset -%}
    {%- set counts = run_query(query).rows[0] -%}
    {%- set share = env_var('MURMURATION_REBUILD_WHOLE_FROM', var('rebuild_whole_from') | string)
        | float -%}
    {%- do return(counts[1] > 0 and counts[0] >= counts[1] * share) -%}
{% endmacro %}

{#- The inputs of a keyed model by the name of their macro (keyed_incremental_config). -#}
{% macro keyed_inputs(name) -%}
    {%- if name == 'submission_inputs' -%} {{ submission_inputs() }}
    {%- elif name == 'landed_inputs' -%} {{ landed_inputs() }}
    {%- elif name == 'partner_inputs' -%} {{ partner_inputs() }}
    {%- elif name == 'period_inputs' -%} {{ period_inputs() }}
    {%- elif name == 'scorecard_inputs' -%} {{ scorecard_inputs() }}
    {%- else -%} {{ exceptions.raise_compiler_error('no inputs macro named ' ~ name) }}
    {%- endif -%}
{%- endmacro %}
