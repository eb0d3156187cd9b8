{#- How a group of an indicator's units (int_indicator_units) adds up, before its value is taken
    (a ratio divides the sums of its paired parts; the others are value_sum): the sums over the
    paired units, how many were counted, how many were left unpaired, and the partners behind
    them. One home for int_period_aggregates and the point-in-time quarters and years of
    indicator_period_totals. -#}
{% macro unit_sums() -%}
    sum(value) filter (where is_paired) as value_sum,
    sum(numerator_value) filter (where is_paired) as numerator_value,
    sum(denominator_value) filter (where is_paired) as denominator_value,
    count(*) filter (where is_paired) as values_counted,
    count(*) filter (where not is_paired) as parts_unpaired,
    list_sort(list(distinct partner_code) filter (where is_paired and partner_code is not null))
        as reporting_partners
{%- endmacro %}
