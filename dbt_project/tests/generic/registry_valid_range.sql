{#- Every current value is inside its indicator's valid range in the registry (the range is
    about one reported value). Blocking: a published value would break an agreed definition. -#}
{% test registry_valid_range(model, where_clause='true') %}
select model.record_id, model.indicator_code, model.value, indicators.valid_min,
    indicators.valid_max
from {{ model }} as model
inner join {{ ref('stg_registry__indicators') }} as indicators using (indicator_code)
where ({{ where_clause }})
    and (model.value < indicators.valid_min or model.value > indicators.valid_max)
{% endtest %}
