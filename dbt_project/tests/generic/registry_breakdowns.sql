{#- Every breakdown of a published value is one the registry allows for its indicator: each
    dimension is one of the indicator's disaggregations and each category belongs to it. -#}
{% test registry_breakdowns(model) %}
with parts as (
    select model.indicator_code, model.disaggregation,
        split_part(part, '=', 1) as dimension_code, split_part(part, '=', 2) as category_code
    from {{ model }} as model
    cross join unnest(string_split(model.disaggregation, ';')) as parts(part)
    where model.disaggregation <> 'total'
)
select parts.*
from parts
left join {{ ref('stg_registry__indicator_dimensions') }} as allowed
    on allowed.indicator_code = parts.indicator_code
    and allowed.dimension_code = parts.dimension_code
left join {{ ref('stg_registry__categories') }} as categories
    on categories.dimension_code = parts.dimension_code
    and categories.category_code = parts.category_code
where allowed.dimension_code is null or categories.category_code is null
{% endtest %}
