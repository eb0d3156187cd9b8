{#- How a group of an indicator's units (int_indicator_units, or series rolled up to a quarter
    or year) adds up, before its value is taken (a ratio divides the sums of its paired parts):
    the value by the indicator's rule across places (``place_aggregation`` on each row: sum,
    mean, median, min, max or count), the sums over the paired units, how many were counted,
    how many were left unpaired, and the partners behind them. One home for
    int_period_aggregates and the quarters and years of indicator_period_totals. -#}
{% macro unit_sums() -%}
    {{ place_aggregate('value', 'place_aggregation', 'is_paired') }} as value,
    sum(value) filter (where is_paired) as value_sum,
    sum(numerator_value) filter (where is_paired) as numerator_value,
    sum(denominator_value) filter (where is_paired) as denominator_value,
    count(*) filter (where is_paired) as values_counted,
    count(*) filter (where not is_paired) as parts_unpaired,
    list_sort(list(distinct partner_code) filter (where is_paired and partner_code is not null))
        as reporting_partners
{%- endmacro %}

{#- One value from a group's values by an aggregation rule (registry Aggregation /
    TimeAggregation): ``rule`` names the column holding it on every row, ``only`` a condition
    the counted rows meet. Each aggregate reads only its own indicators' rows (filters), so a
    sum pays no median. A mean or median over no value is no value (null), never 0. -#}
{% macro place_aggregate(value, rule, only=none) -%}
    {%- set keep = (only ~ ' and ') if only else '' -%}
    case any_value({{ rule }})
        when 'mean' then avg({{ value }}) filter (where {{ keep }}{{ rule }} = 'mean')
        when 'median' then median({{ value }}) filter (where {{ keep }}{{ rule }} = 'median')
        when 'min' then min({{ value }}) filter (where {{ keep }}{{ rule }} = 'min')
        when 'max' then max({{ value }}) filter (where {{ keep }}{{ rule }} = 'max')
        when 'count' then count({{ value }}) filter (where {{ keep }}{{ rule }} = 'count')::double
        else sum({{ value }}){{ (' filter (where ' ~ only ~ ')') if only else '' }}
    end
{%- endmacro %}

{#- A series' value over its base periods in a quarter or year (``rule``: the indicator's
    time_aggregation): the place rules, plus last and first (the latest or earliest period's
    value). -#}
{% macro time_aggregate(value, rule, period_column, only=none) -%}
    {%- set keep = (only ~ ' and ') if only else '' -%}
    case any_value({{ rule }})
        when 'last'
            then arg_max({{ value }}, {{ period_column }}) filter (where {{ keep }}{{ rule }} = 'last')
        when 'first'
            then arg_min({{ value }}, {{ period_column }}) filter (where {{ keep }}{{ rule }} = 'first')
        else {{ place_aggregate(value, rule, only) }}
    end
{%- endmacro %}
