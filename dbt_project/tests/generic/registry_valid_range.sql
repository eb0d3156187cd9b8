{#- Every current value is inside its indicator's valid range in the registry (the range is
    about one reported value; so is a mean, median, minimum or maximum of such values, which
    the totals of those indicators are). Blocking: a published value would break an agreed
    definition. -#}
{% test registry_valid_range(model, where_clause='true') %}
select model.indicator_code, model.value, indicators.valid_min,
    indicators.valid_max
from {{ model }} as model
inner join {{ ref('stg_registry__indicators') }} as indicators using (indicator_code)
where ({{ where_clause }})
    and (model.value < indicators.valid_min or model.value > indicators.valid_max)
{% endtest %}
