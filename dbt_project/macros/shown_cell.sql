{#- A partner's cell as a quarantine reason quotes it: at most `limit` characters (the
    initiative's limits.cell_chars_in_messages, registry.initiative), then '… (N characters)',
    and control characters escaped (a NUL shows as \x00, a line end as \n). The SQL twin of
    murmuration.intake.reasons.shown_cell; keep the two alike. -#}
{% macro shown_cell(expression, limit='settings.cell_chars_in_messages') -%}
    {%- set ns = namespace(cut='case when length(' ~ expression ~ ') > ' ~ limit ~ ' then left('
        ~ expression ~ ', ' ~ limit ~ ') else ' ~ expression ~ ' end') -%}
    {%- for code in range(32) | list + [127] -%}
        {%- set escaped = {9: '\\t', 10: '\\n', 13: '\\r'}.get(code, '\\x' ~ '%02x' % code) -%}
        {%- set ns.cut = 'replace(' ~ ns.cut ~ ', chr(' ~ code ~ '), \'' ~ escaped ~ '\')' -%}
    {%- endfor -%}
    ({{ ns.cut }} || case when length({{ expression }}) > {{ limit }}
        then '… (' || format('{:,}', length({{ expression }})) || ' characters)' else '' end)
{%- endmacro %}
