{#- An indicator's value over a group of its units (int_indicator_units), by its aggregation:
    a ratio is numerator / denominator x factor over the paired units; the others follow the
    indicator's rule across places (sum, mean, median, min, max, count). ``paired``
    restricts the group when it still holds unpaired units. One home for
    indicator_period_totals, indicator_breakdowns and indicator_contributions. -#}
{% macro aggregated_value(paired=none) -%}
    {%- set only = (' filter (where ' ~ paired ~ ')') if paired else '' -%}
    case when any_value(indicators.aggregation) = 'ratio'
        then sum(numerator_value){{ only }} / nullif(sum(denominator_value){{ only }}, 0)
            * any_value(indicators.factor)
        else {{ place_aggregate('value', 'indicators.place_aggregation', paired) }} end
{%- endmacro %}
