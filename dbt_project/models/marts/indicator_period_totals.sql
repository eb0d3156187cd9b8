-- Each indicator's total per period (the initiative's period type - month or week - and, for
-- months, quarters and years; for weeks, years) for every place and the whole area
-- ('all'), following the indicator's aggregation:
--   sum    - values add up over partners, places, breakdowns and months;
--   latest - a count at a point in time: over a quarter or year each series counts its latest
--            month, then series add up;
--   ratio  - total numerator / total denominator x factor, at the same period and place.
with indicator_values as (
    select * from {{ ref('indicator_values') }}
),

indicators as (
    select * from {{ ref('stg_registry__indicators') }}
),

partner_indicators as (
    select * from {{ ref('stg_registry__partner_indicators') }}
),

partners as (
    select * from {{ ref('stg_registry__partners') }}
),

grains as (
    select
        indicator_values.*,
        grain.period_type,
        case
            when grain.period_type = grain.base then indicator_values.period
            when grain.period_type = 'quarter' then strftime(indicator_values.period_start, '%Y')
                || '-Q' || quarter(indicator_values.period_start)
            else strftime(indicator_values.period_start, '%Y')
        end as grain_period,
        cast(date_trunc(grain.period_type, indicator_values.period_start) as date) as grain_start
    from indicator_values
    cross join (
        values ('month', 'month'), ('quarter', 'month'), ('year', 'month'),
            ('week', 'week'), ('year', 'week')
    ) as grain (period_type, base)
    where grain.base = {{ period_type() }}
),

counted as (
    select grains.*
    from grains
    inner join indicators using (indicator_code)
    qualify indicators.aggregation <> 'latest'
        or grains.period_start = max(grains.period_start) over (
            partition by grains.indicator_code, grains.partner_code, grains.place_code,
                grains.disaggregation, grains.period_type, grains.grain_period
        )
),

by_place as (
    select
        indicator_code,
        period_type,
        grain_period as period,
        grain_start as period_start,
        place_code,
        sum(value) as value,
        count(distinct partner_code) as partners_reporting,
        count(*) as values_counted
    from counted
    where place_code <> 'all'
    group by all
),

whole_area as (
    select
        indicator_code,
        period_type,
        grain_period as period,
        grain_start as period_start,
        'all' as place_code,
        sum(value) as value,
        count(distinct partner_code) as partners_reporting,
        count(*) as values_counted
    from counted
    group by all
),

reported as (
    select * from by_place
    union all
    select * from whole_area
),

ratios as (
    select
        indicators.indicator_code,
        numerator.period_type,
        numerator.period,
        numerator.period_start,
        numerator.place_code,
        numerator.value / denominator.value * indicators.factor as value,
        least(numerator.partners_reporting, denominator.partners_reporting) as partners_reporting,
        numerator.values_counted + denominator.values_counted as values_counted,
        numerator.value as numerator_value,
        denominator.value as denominator_value
    from indicators
    inner join reported as numerator
        on numerator.indicator_code = indicators.numerator_code
    inner join reported as denominator
        on denominator.indicator_code = indicators.denominator_code
        and denominator.period_type = numerator.period_type
        and denominator.period = numerator.period
        and denominator.place_code = numerator.place_code
    where indicators.aggregation = 'ratio'
        and denominator.value > 0
),

totals as (
    select *, null::double as numerator_value, null::double as denominator_value from reported
    union all
    select * from ratios
),

expected as (
    -- Partners registered to report an indicator (ratios: its numerator) in a month.
    select
        indicators.indicator_code,
        count(distinct partners.partner_code) as partners_expected,
        partners.reports_from,
        partners.reports_until
    from indicators
    inner join partner_indicators
        on partner_indicators.indicator_code
            = coalesce(indicators.numerator_code, indicators.indicator_code)
    inner join partners using (partner_code)
    group by all
),

final as (
    select
        totals.*,
        case when totals.period_type = {{ period_type() }}
            then {{ period_index('totals.period_start') }} end as period_index,
        case when totals.place_code = 'all' and totals.period_type = {{ period_type() }} then (
            select sum(expected.partners_expected)
            from expected
            where expected.indicator_code = totals.indicator_code
                and (expected.reports_from is null or expected.reports_from <= totals.period_start)
                and (expected.reports_until is null
                    or expected.reports_until >= totals.period_start)
        ) end as partners_expected
    from totals
)

select * from final
