{#- Join the code lookup for one role: a mapping's own codes win over registry names/aliases.
    Use with resolved_code(role) in the select list. -#}
{% macro join_code(role, key_column, role_column=none) -%}
    {%- set role_expr = role_column if role_column else "'" ~ role ~ "'" -%}
    left join {{ ref('stg_registry__code_lookup') }} as {{ role }}_mapped
        on {{ role }}_mapped.role = {{ role_expr }}
        and {{ role }}_mapped.mapping_name = records.mapping_name
        and {{ role }}_mapped.text_key = {{ key_column }}
    left join {{ ref('stg_registry__code_lookup') }} as {{ role }}_any
        on {{ role }}_any.role = {{ role_expr }}
        and {{ role }}_any.mapping_name = '*'
        and {{ role }}_any.text_key = {{ key_column }}
{%- endmacro %}

{% macro resolved_code(role) -%}
    coalesce({{ role }}_mapped.code, {{ role }}_any.code)
{%- endmacro %}
