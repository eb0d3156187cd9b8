-- Each indicator's total per period (the initiative's period type - month or week - and, for
-- months, quarters and years; for weeks, years) for every place at every level of the place
-- hierarchy and the whole area ('all'), following the indicator's aggregation (across
-- partners and places) and time_aggregation (per series, across the months of a quarter):
--   sum, mean, median, min, max, count - over every value reported at the place or below it
--            (a mean or median over no value is no value; values_counted says how many);
--   latest - a count at a point in time: over a quarter or year each series counts its latest
--            month, then series add up;
--   ratio  - numerator / denominator x factor, both summed only over the units (partner x
--            reporting unit x place x breakdown x period) where both parts were accepted; the
--            units with only one part are left out and counted in parts_unpaired.
-- A quarter or year of any rule but a plain sum takes each series' value over its months
-- (time_aggregation: mean, median, last...), then rolls the series up across places.
-- Each total carries how complete it is: partners reporting / expected and a state:
--   complete     at least complete_share (status rule) of the expected partners reported;
--   not_yet_due  fewer did, and the period's due date has not passed (as of the initiative's
--                as_of moment);
--   incomplete   fewer did, and it is due.
-- Expected: partners registered for the indicator (a ratio: its numerator) whose reporting
-- window covers the period (int_partner_windows); at a place, those of them that have reported
-- the indicator there; plus any partner that did report.
with period_sums as (
    select * from {{ ref('int_period_aggregates') }}
),

indicators as (
    select * from {{ ref('stg_registry__indicators') }}
),

partner_indicators as (
    select * from {{ ref('stg_registry__partner_indicators') }}
),

windows as (
    select * from {{ ref('int_partner_windows') }}
),

initiative as (
    select * from {{ ref('stg_registry__initiative') }}
),

coarser_grains as (
    -- The coarser periods a base period belongs to: quarter and year of a month, year of a week.
    select
        grain.base,
        grain.period_type
    from (
        values ('month', 'quarter'), ('month', 'year'), ('week', 'year')
    ) as grain (base, period_type)
    where grain.base = {{ period_type() }}
),

summed_in_grains as (
    -- A summed indicator (or a ratio whose parts add up over time): a quarter or year adds up
    -- its base periods' sums.
    select
        period_sums.*,
        grain.period_type,
        case
            when grain.period_type = 'quarter'
                then
                    strftime(period_sums.period_start, '%Y')
                    || '-Q' || quarter(period_sums.period_start)
            else strftime(period_sums.period_start, '%Y')
        end as grain_period,
        cast(date_trunc(grain.period_type, period_sums.period_start) as date) as grain_start
    from period_sums
    inner join indicators using (indicator_code)
    cross join coarser_grains as grain
    where indicators.place_aggregation in ('sum', 'ratio') and indicators.time_aggregation = 'sum'
),

summed_grains as (
    select
        indicator_code,
        period_type,
        grain_period as period,
        grain_start as period_start,
        place_code,
        sum(value_sum) as value,
        sum(value_sum) as value_sum,
        sum(numerator_value) as numerator_value,
        sum(denominator_value) as denominator_value,
        sum(values_counted) as values_counted,
        sum(parts_unpaired) as parts_unpaired,
        list_sort(list_distinct(flatten(list(reporting_partners)))) as reporting_partners
    from summed_in_grains
    group by all
),

series_in_grains as (
    -- Every other rule (a stock's latest month, a price's mean or median...): each series
    -- (partner x reporting unit x place x breakdown) first rolls its base periods in the
    -- quarter or year up by the indicator's time_aggregation, then the series roll up across
    -- places by its aggregation (below). Read from the units: only these indicators'.
    select
        units.indicator_code,
        units.partner_code,
        units.reporting_unit,
        units.place_code,
        units.disaggregation,
        grain.period_type,
        case
            when grain.period_type = 'quarter'
                then
                    strftime(units.period_start, '%Y')
                    || '-Q' || quarter(units.period_start)
            else strftime(units.period_start, '%Y')
        end as grain_period,
        cast(date_trunc(grain.period_type, units.period_start) as date) as grain_start,
        any_value(indicators.place_aggregation) as place_aggregation,
        any_value(indicators.time_aggregation) as time_aggregation,
        {{ time_aggregate('units.value', 'indicators.time_aggregation', 'units.period_start',
                          'units.is_paired') }} as value,
        -- A ratio's parts: the last paired period's (time_aggregation: last).
        arg_max(units.numerator_value, units.period_start) filter (where units.is_paired)
            as numerator_value,
        arg_max(units.denominator_value, units.period_start) filter (where units.is_paired)
            as denominator_value,
        bool_or(units.is_paired) as is_paired
    from {{ ref('int_indicator_units') }} as units
    inner join indicators using (indicator_code)
    cross join coarser_grains as grain
    where
        not (
            indicators.place_aggregation in ('sum', 'ratio') and indicators.time_aggregation = 'sum'
        )
    group by all
),

series_by_place_and_area as (
    {{ with_places_above('series_in_grains') }}
),

series_grains as (
    select
        indicator_code,
        period_type,
        grain_period as period,
        grain_start as period_start,
        total_place as place_code,
        {{ unit_sums() }}
    from series_by_place_and_area
    group by indicator_code, period_type, grain_period, grain_start, total_place
),

coarser_totals as (
    -- The same columns, in the same order, from both ways of rolling up a coarser period.
    select * from summed_grains
    union all
    select
        indicator_code,
        period_type,
        period,
        period_start,
        place_code,
        value,
        value_sum,
        numerator_value,
        denominator_value,
        values_counted,
        parts_unpaired,
        reporting_partners
    from series_grains
),

all_grains as (
    select
        indicator_code,
        {{ period_type() }} as period_type,
        true as is_base,
        period,
        period_start,
        place_code,
        value,
        value_sum,
        numerator_value,
        denominator_value,
        values_counted,
        parts_unpaired,
        reporting_partners
    from period_sums
    union all
    select
        indicator_code,
        period_type,
        false as is_base,
        period,
        period_start,
        place_code,
        value,
        value_sum,
        numerator_value,
        denominator_value,
        values_counted,
        parts_unpaired,
        reporting_partners
    from coarser_totals
),

aggregated as (
    select
        all_grains.indicator_code,
        all_grains.period_type,
        all_grains.is_base,
        all_grains.period,
        all_grains.period_start,
        all_grains.place_code,
        case
            when indicators.aggregation = 'ratio'
                then
                    all_grains.numerator_value / nullif(all_grains.denominator_value, 0)
                    * indicators.factor
            else all_grains.value
        end as value,
        len(all_grains.reporting_partners) as partners_reporting,
        all_grains.values_counted,
        all_grains.parts_unpaired,
        all_grains.numerator_value,
        all_grains.denominator_value,
        all_grains.reporting_partners
    from all_grains
    inner join indicators using (indicator_code)
),

-- Which partners were expected for each base period (and place) that has a total.
registered as (
    select
        indicators.indicator_code,
        windows.partner_code,
        windows.window_start,
        windows.reports_until,
        windows.due_days,
        windows.report_grain
    from indicators
    inner join partner_indicators
        on
            partner_indicators.indicator_code
            = coalesce(indicators.numerator_code, indicators.indicator_code)
    inner join windows using (partner_code)
),

reported_places as (
    select distinct
        indicator_code,
        unnest(reporting_partners) as partner_code,
        place_code
    from period_sums
),

base_totals as (
    select * from aggregated
    where is_base
),

expected_partners as (
    select
        base_totals.indicator_code,
        base_totals.period_start,
        base_totals.place_code,
        registered.partner_code
    from base_totals
    inner join registered
        on
            base_totals.indicator_code = registered.indicator_code
            and base_totals.period_start >= registered.window_start
            and (
                registered.reports_until is null
                or base_totals.period_start <= registered.reports_until
            )
    where
        base_totals.place_code = {{ whole_area() }}
        or exists (
            select 1 from reported_places
            where
                reported_places.indicator_code = base_totals.indicator_code
                and reported_places.partner_code = registered.partner_code
                and reported_places.place_code = base_totals.place_code
        )
    union
    select
        base_totals.indicator_code,
        base_totals.period_start,
        base_totals.place_code,
        unnest(base_totals.reporting_partners) as partner_code
    from base_totals
),

coverage as (
    select
        expected_partners.indicator_code,
        expected_partners.period_start,
        expected_partners.place_code,
        count(*) as partners_expected,
        -- The period's due date: its end plus the longest due_days of the partners expected
        -- (a quarterly partner's report is due after its quarter ends).
        max(cast(
            {{ report_start_of('windows.report_grain', 'expected_partners.period_start') }}
            + {{ report_step('windows.report_grain') }} - interval 1 day
            + to_days(windows.due_days) as date
        ))
            as due_date
    from expected_partners
    inner join windows using (partner_code)
    group by all
),

base_states as (
    select
        base_totals.indicator_code,
        base_totals.period_type,
        base_totals.period,
        base_totals.place_code,
        coverage.partners_expected,
        coverage.due_date,
        case
            when
                base_totals.partners_reporting
                >= indicators.complete_share * coverage.partners_expected then 'complete'
            when cast(initiative.as_of as date) <= coverage.due_date then 'not_yet_due'
            else 'incomplete'
        end as completeness_state
    from base_totals
    inner join coverage using (indicator_code, period_start, place_code)
    inner join indicators using (indicator_code)
    cross join initiative
),

base_in_grains as (
    -- Each base period's state, placed in the coarser periods (quarter, year) it belongs to.
    select
        base_states.*,
        grain.period_type as grain_type,
        case
            when grain.period_type = 'quarter'
                then strftime(base_totals.period_start, '%Y') || '-Q' || quarter(base_totals.period_start)
            else strftime(base_totals.period_start, '%Y')
        end as grain_period,
        -- How many days the coarser period ends after this base period: its due date comes as
        -- much later (a period's due date is its end plus the due days, docs/judging.md). A year of
        -- weeks ends with the week of its last Monday.
        datediff(
            'day',
            base_totals.period_start + {{ report_step(period_type()) }},
            case
                when grain.period_type = 'quarter'
                    then date_trunc('quarter', base_totals.period_start) + interval 3 month
                when {{ period_type() }} = 'month'
                    then date_trunc('year', base_totals.period_start) + interval 1 year
                else
                    make_date(year(base_totals.period_start), 12, 31)
                    - to_days(cast(
                        isodow(make_date(year(base_totals.period_start), 12, 31))
                        - 1 as integer
                    ))
                    + interval 7 day
            end
        ) as days_to_grain_end
    from base_states
    inner join base_totals using (indicator_code, period_type, period, place_code)
    cross join (values ('quarter'), ('year')) as grain (period_type)
    where grain.period_type = 'year' or {{ period_type() }} = 'month'
),

grain_states as (
    select
        indicator_code,
        grain_type as period_type,
        grain_period as period,
        place_code,
        max(partners_expected) as partners_expected,
        max(cast(due_date + to_days(cast(days_to_grain_end as integer)) as date)) as due_date,
        count(*) filter (where completeness_state = 'complete') as periods_complete
    from base_in_grains
    group by all
),

periods_in_grain as (
    -- How many base periods a coarser period holds: 3 months a quarter, 12 a year, or the
    -- weeks (Mondays) of a year.
    select distinct
        aggregated.period_type,
        aggregated.period_start,
        case
            when aggregated.period_type = 'quarter' then 3
            when {{ period_type() }} = 'month' then 12
            else len(range(
                cast(aggregated.period_start as timestamp)
                + to_days(cast((8 - isodow(aggregated.period_start)) % 7 as integer)),
                cast(aggregated.period_start as timestamp) + interval 1 year,
                interval 7 day
            ))
        end as periods
    from aggregated
    where not aggregated.is_base
),

places as (
    select * from {{ ref('stg_registry__places') }}
),

final as (
    select
        aggregated.indicator_code,
        aggregated.period_type,
        aggregated.period,
        aggregated.period_start,
        aggregated.place_code,
        case
            when aggregated.place_code = {{ whole_area() }} then 'Whole area'
            else coalesce(places.level_name, 'Place')
        end as place_level,
        coalesce(places.place_depth, 0) as place_depth,
        aggregated.value,
        aggregated.partners_reporting,
        coalesce(base_states.partners_expected, grain_states.partners_expected)
            as partners_expected,
        aggregated.values_counted,
        aggregated.parts_unpaired,
        aggregated.numerator_value,
        aggregated.denominator_value,
        case
            when aggregated.is_base
                then {{ period_index('aggregated.period_start') }}
        end as period_index,
        coalesce(base_states.due_date, grain_states.due_date) as due_date,
        case
            when aggregated.is_base then base_states.completeness_state
            when grain_states.periods_complete = periods_in_grain.periods then 'complete'
            -- Not over yet, or a month in it still to come: not yet due.
            when cast(initiative.as_of as date) <= grain_states.due_date then 'not_yet_due'
            else 'incomplete'
        end as completeness_state,
        coalesce(
            grain_states.periods_complete,
            case when base_states.completeness_state = 'complete' then 1 else 0 end)
            as periods_complete,
        case when aggregated.is_base then 1 else periods_in_grain.periods end as periods_in_period
    from aggregated
    cross join initiative
    left join places using (place_code)
    left join base_states
        on
            aggregated.is_base
            and aggregated.indicator_code = base_states.indicator_code
            and aggregated.period = base_states.period
            and aggregated.place_code = base_states.place_code
    left join grain_states
        on
            not aggregated.is_base
            and aggregated.indicator_code = grain_states.indicator_code
            and aggregated.period_type = grain_states.period_type
            and aggregated.period = grain_states.period
            and aggregated.place_code = grain_states.place_code
    left join periods_in_grain
        on
            not aggregated.is_base
            and aggregated.period_type = periods_in_grain.period_type
            and aggregated.period_start = periods_in_grain.period_start
    where aggregated.value is not null
)

select * from final
