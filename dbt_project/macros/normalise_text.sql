{#- How partner text is compared with registry names: case, accents and spacing do not matter.
    The Python twin is murmuration.registry.loader.normalise; tests/registry checks they agree.
    Python renders this macro for its own SQL (murmuration.sqltext.normalised_sql). -#}
{% macro normalise_text(expression) -%}
    lower(trim(regexp_replace(strip_accents(coalesce({{ expression }}, '')), '\s+', ' ', 'g')))
{%- endmacro %}
