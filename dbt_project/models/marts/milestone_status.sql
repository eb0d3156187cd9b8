-- Where each indicator is heading against its next milestone ("turn the curve").
--
-- Rule (documented in docs/judging.md, "Milestone status"):
--   1. Take the indicator's monthly totals for the target's place that are complete (enough of
--      the expected partners reported: indicator_period_totals.completeness_state); months not
--      yet due or incomplete are left out, and status_reason names them. The latest complete
--      month must be within the last `trend_periods` months of the initiative's latest
--      complete month, and the `trend_periods` months up to it must hold at least
--      `min_periods` values; otherwise the status is "no data".
--   2. Fit a straight line (least squares) through those months and project it to the next
--      milestone (the first baseline/milestone/target point at or after the latest month; once
--      all have passed, the end target is compared with the latest value).
--   3. Shortfall = how far the projection falls short of the milestone in the indicator's
--      direction. No shortfall: "on track". A shortfall within `at_risk_tolerance` of the
--      progress the milestone asks for (milestone minus the point before it): "at risk".
--      More: "off track".
with all_monthly as (
    -- "monthly" stands for the initiative's period type (weeks in a weekly initiative).
    select * from {{ ref('indicator_period_totals') }}
    where period_type = {{ period_type() }}
),

monthly as (
    select * from all_monthly
    where completeness_state = 'complete'
),

indicators as (
    select * from {{ ref('stg_registry__indicators') }}
),

points as (
    select * from {{ ref('stg_registry__target_points') }}
),

targets as (
    select distinct
        indicator_code,
        place_code
    from points
),

latest_reporting as (
    select max(period_index) as latest_reporting_index from monthly
),

series as (
    select
        targets.indicator_code,
        targets.place_code,
        monthly.period_start,
        monthly.value,
        monthly.period_index
    from targets
    inner join monthly using (indicator_code, place_code)
),

latest as (
    select
        indicator_code,
        place_code,
        max(period_start) as latest_start,
        max(period_index) as latest_index,
        arg_max(value, period_start) as latest_value
    from series
    group by all
),

window_fit as (
    select
        latest.indicator_code,
        latest.place_code,
        count(series.value) as periods_in_window,
        regr_slope(series.value, series.period_index) as slope,
        regr_intercept(series.value, series.period_index) as intercept
    from latest
    inner join indicators using (indicator_code)
    inner join series
        on
            latest.indicator_code = series.indicator_code
            and latest.place_code = series.place_code
            and series.period_index > latest.latest_index - indicators.trend_periods
    group by all
),

next_point as (
    select
        targets.indicator_code,
        targets.place_code,
        min_by(points.sequence, points.period_start)
        filter (where points.period_start >= latest.latest_start) as next_sequence,
        max(points.sequence) as last_sequence
    from targets
    left join latest using (indicator_code, place_code)
    inner join points using (indicator_code, place_code)
    group by all
),

assessed as (
    select
        targets.indicator_code,
        targets.place_code,
        indicators.short_name as indicator_name,
        indicators.direction,
        indicators.unit,
        -- '%' a month would read as a rate of growth: a percentage's trend is in points.
        case
            when indicators.unit_name = '%' then 'percentage points'
            else indicators.unit_name
        end as trend_unit,
        indicators.decimals,
        indicators.trend_periods,
        indicators.min_periods,
        indicators.at_risk_tolerance,
        latest.latest_start,
        latest.latest_value,
        window_fit.periods_in_window,
        window_fit.slope,
        milestone.point_kind as milestone_kind,
        milestone.period as milestone_period,
        milestone.period_start as milestone_start,
        milestone.target_value as milestone_value,
        previous.target_value as previous_value,
        baseline.target_value as baseline_value,
        next_point.next_sequence is null as all_milestones_passed,
        case
            when next_point.next_sequence is null then latest.latest_value
            when milestone.period_start = latest.latest_start then latest.latest_value
            else window_fit.intercept + window_fit.slope * milestone.period_index
        end as projected_value,
        latest.latest_index is null
        or latest.latest_index
        <= latest_reporting.latest_reporting_index - indicators.trend_periods
        or coalesce(window_fit.periods_in_window, 0) < indicators.min_periods as lacks_data
    from targets
    inner join indicators using (indicator_code)
    cross join latest_reporting
    left join latest using (indicator_code, place_code)
    left join window_fit using (indicator_code, place_code)
    left join next_point using (indicator_code, place_code)
    left join points as milestone
        on
            targets.indicator_code = milestone.indicator_code
            and targets.place_code = milestone.place_code
            and milestone.sequence = coalesce(next_point.next_sequence, next_point.last_sequence)
    left join points as previous
        on
            targets.indicator_code = previous.indicator_code
            and targets.place_code = previous.place_code
            and previous.sequence = milestone.sequence - 1
    left join points as baseline
        on
            targets.indicator_code = baseline.indicator_code
            and targets.place_code = baseline.place_code
            and baseline.point_kind = 'baseline'
),

left_out as (
    -- Months of the trend window (or after it) that were left out, and why.
    select
        latest.indicator_code,
        latest.place_code,
        count(*) as periods_left_out,
        string_agg(
            all_monthly.period || ' (' || replace(all_monthly.completeness_state, '_', ' ')
            || ': ' || all_monthly.partners_reporting || ' of '
            || all_monthly.partners_expected || ' partners reported'
            || case
                when all_monthly.completeness_state = 'not_yet_due'
                    then ', due ' || strftime(all_monthly.due_date, '%Y-%m-%d')
                else ''
            end
            || ')', '; ' order by all_monthly.period_start
        ) as left_out_text
    from latest
    inner join indicators using (indicator_code)
    inner join all_monthly
        on
            latest.indicator_code = all_monthly.indicator_code
            and latest.place_code = all_monthly.place_code
            and all_monthly.period_index > latest.latest_index - indicators.trend_periods
            and all_monthly.completeness_state <> 'complete'
    group by all
),

scored as (
    select
        *,
        (projected_value - milestone_value)
        * case direction when 'lower_is_better' then -1 else 1 end as margin,
        abs(milestone_value - coalesce(previous_value, baseline_value)) as progress_asked
    from assessed
    left join left_out using (indicator_code, place_code)
),

final as (
    select
        indicator_code,
        place_code,
        {{ period_key('latest_start') }} as latest_period,
        latest_value,
        periods_in_window,
        slope as trend_per_period,
        milestone_kind,
        milestone_period,
        milestone_value,
        projected_value,
        margin,
        progress_asked,
        coalesce(periods_left_out, 0) as periods_left_out,
        case
            when lacks_data then 'no_data'
            when margin >= 0 then 'on_track'
            when -margin <= at_risk_tolerance * greatest(progress_asked, abs(milestone_value) * 0.01)
                then 'at_risk'
            else 'off_track'
        end as status,
        case
            when lacks_data
                then
                    'Not enough recent data: ' || coalesce(periods_in_window, 0) || ' of the last '
                    || trend_periods || ' periods have values (at least ' || min_periods
                    || ' needed, ending within the last ' || trend_periods || ' periods).'
            when all_milestones_passed
                then
                    'All milestones have passed; the latest value ('
                    || {{ format_number('latest_value', 'decimals') }}
                    || ') is compared with the end target ('
                    || {{ format_number('milestone_value', 'decimals') }} || ').'
            else
                'The trend of the last ' || trend_periods || ' ' || {{ period_type() }} || 's ('
                || case when slope >= 0 then '+' else '' end
                || {{ format_number('slope', 'decimals + 1') }} || ' ' || trend_unit || ' a '
                || {{ period_type() }} || ') projects '
                || {{ format_number('projected_value', 'decimals') }} || ' by ' || milestone_period
                || ' against a ' || milestone_kind || ' of '
                || {{ format_number('milestone_value', 'decimals') }} || '.'
        end || coalesce(' Left out as not complete: ' || left_out_text || '.', '')
            as status_reason
    from scored
)

select * from final
