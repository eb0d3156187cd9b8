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
