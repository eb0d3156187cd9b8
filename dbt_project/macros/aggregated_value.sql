{#- An indicator's value over a group of its units (int_indicator_units), by its aggregation:
    a ratio is numerator / denominator x factor over the paired units; the others add up.
    ``paired`` restricts the sums when the group still holds unpaired units. One home for
    indicator_period_totals, indicator_breakdowns and indicator_contributions. -#}
{% macro aggregated_value(paired=none) -%}
    {%- set only = (' filter (where ' ~ paired ~ ')') if paired else '' -%}
    case when any_value(indicators.aggregation) = 'ratio'
        then sum(numerator_value){{ only }} / nullif(sum(denominator_value){{ only }}, 0)
            * any_value(indicators.factor)
        else sum(value) end
{%- endmacro %}
