-- Values that look wrong against the partner's own history (WHO Data Quality Review):
--   outlier               per series (partner x indicator x place x breakdown), once it has
--                         outlier_min_history values: moderate when |z| >= outlier_moderate_z or
--                         |modified z| >= outlier_moderate_modified_z, extreme at the _extreme_
--                         thresholds; modified z = 0.6745 (x - median) / MAD.
--   consistency_over_time per partner and indicator (summed over places and breakdowns): the
--                         period's total / mean of the consistency_periods preceding periods,
--                         flagged outside 1 +/- consistency_tolerance.
-- Both the current values and superseded ones are judged against the current history, so a
-- scorecard can tell which flags a resubmission resolved.
with outcomes as (
    select * from {{ ref('int_records_outcomes') }}
    where outcome in ('current', 'superseded')
),

indicators as (
    select * from {{ ref('stg_registry__indicators') }}
),

keyed as (
    -- One value per key and submission (rows a mapping sums are added up first).
    select
        outcome,
        submission_id,
        indicator_code,
        partner_code,
        period,
        period_start,
        place_code,
        disaggregation,
        sum(value) as value,
        min(record_id) as record_id,
        arg_min(file_name, record_id) as file_name,
        arg_min(sheet, record_id) as sheet,
        arg_min(row_number, record_id) as row_number,
        arg_min(column_name, record_id) as column_name
    from outcomes
    group by all
),

history as (
    select
        indicator_code, partner_code, place_code, disaggregation,
        count(*) as history_values,
        avg(value) as mean_value,
        stddev_samp(value) as sd_value,
        median(value) as median_value
    from keyed
    where outcome = 'current'
    group by all
),

deviations as (
    select
        history.*,
        median(abs(keyed.value - history.median_value)) as mad_value
    from history
    inner join keyed using (indicator_code, partner_code, place_code, disaggregation)
    where keyed.outcome = 'current'
    group by all
),

scored as (
    select
        keyed.*,
        deviations.history_values,
        deviations.mean_value,
        deviations.sd_value,
        deviations.median_value,
        deviations.mad_value,
        case when deviations.sd_value > 0
            then (keyed.value - deviations.mean_value) / deviations.sd_value end as z_score,
        case when deviations.mad_value > 0
            then 0.6745 * (keyed.value - deviations.median_value) / deviations.mad_value
        end as modified_z_score,
        indicators.short_name as indicator_name,
        indicators.unit,
        indicators.quality_outlier_moderate_z as moderate_z,
        indicators.quality_outlier_moderate_modified_z as moderate_mz,
        indicators.quality_outlier_extreme_z as extreme_z,
        indicators.quality_outlier_extreme_modified_z as extreme_mz,
        indicators.quality_outlier_min_history as min_history
    from keyed
    inner join deviations using (indicator_code, partner_code, place_code, disaggregation)
    inner join indicators using (indicator_code)
),

outliers as (
    select
        *,
        case
            when abs(z_score) >= extreme_z or abs(modified_z_score) >= extreme_mz then 'extreme'
            when abs(z_score) >= moderate_z or abs(modified_z_score) >= moderate_mz
                then 'moderate'
        end as severity,
        greatest(
            mean_value - moderate_z * coalesce(sd_value, 0),
            median_value - moderate_mz * coalesce(mad_value, 0) / 0.6745
        ) as expected_low,
        least(
            mean_value + moderate_z * coalesce(sd_value, 0),
            median_value + moderate_mz * coalesce(mad_value, 0) / 0.6745
        ) as expected_high
    from scored
    where history_values >= min_history
),

outlier_flags as (
    select
        'outlier' as rule,
        severity,
        outcome,
        submission_id,
        indicator_code,
        partner_code,
        period,
        place_code,
        disaggregation,
        value,
        expected_low,
        expected_high,
        'z = ' || {{ format_number('z_score') }}
            || coalesce(', modified z = ' || {{ format_number('modified_z_score') }}, '')
            as statistic,
        'value ' || {{ format_number('value') }} || ' ' || unit || ' is '
            || case severity when 'extreme' then 'an extreme' else 'a moderate' end
            || ' outlier against this partner''s ' || history_values || ' values for '
            || indicator_name || ' here (expected about ' || {{ format_number('expected_low') }}
            || ' to ' || {{ format_number('expected_high') }} || ')' as description,
        record_id,
        file_name,
        sheet,
        row_number,
        column_name
    from outliers
    where severity is not null
),

partner_totals as (
    select
        outcome,
        indicator_code,
        partner_code,
        period,
        period_start,
        any_value(submission_id) as submission_id,
        sum(value) as value,
        min(record_id) as record_id,
        min(file_name) as file_name
    from keyed
    group by all
),

current_totals as (
    select *, {{ period_index('period_start') }} as period_index
    from partner_totals where outcome = 'current'
),

consistency as (
    select
        totals.*,
        indicators.short_name as indicator_name,
        indicators.unit,
        indicators.quality_consistency_periods as periods_needed,
        indicators.quality_consistency_tolerance as tolerance,
        (
            select avg(earlier.value) from current_totals as earlier
            where earlier.indicator_code = totals.indicator_code
                and earlier.partner_code = totals.partner_code
                and earlier.period_index between
                    {{ period_index('totals.period_start') }} - indicators.quality_consistency_periods
                    and {{ period_index('totals.period_start') }} - 1
        ) as preceding_mean,
        (
            select count(*) from current_totals as earlier
            where earlier.indicator_code = totals.indicator_code
                and earlier.partner_code = totals.partner_code
                and earlier.period_index between
                    {{ period_index('totals.period_start') }} - indicators.quality_consistency_periods
                    and {{ period_index('totals.period_start') }} - 1
        ) as preceding_periods
    from partner_totals as totals
    inner join indicators using (indicator_code)
    where indicators.aggregation in ('sum', 'latest')
),

consistency_flags as (
    select
        'consistency_over_time' as rule,
        'flag' as severity,
        outcome,
        submission_id,
        indicator_code,
        partner_code,
        period,
        null::varchar as place_code,
        null::varchar as disaggregation,
        value,
        preceding_mean * (1 - tolerance) as expected_low,
        preceding_mean * (1 + tolerance) as expected_high,
        'ratio = ' || {{ format_number('value / preceding_mean') }} as statistic,
        indicator_name || ' totals ' || {{ format_number('value') }} || ' ' || unit
            || ' this period, ' || {{ format_number('100 * value / preceding_mean') }}
            || '% of the mean of the ' || periods_needed || ' preceding periods ('
            || {{ format_number('preceding_mean') }} || '); expected within '
            || {{ format_number('100 * tolerance') }} || '%' as description,
        record_id,
        file_name,
        null::varchar as sheet,
        null::bigint as row_number,
        null::varchar as column_name
    from consistency
    where preceding_periods = periods_needed
        and preceding_mean > 0
        and abs(value / preceding_mean - 1) > tolerance
),

final as (
    select * from outlier_flags
    union all
    select * from consistency_flags
)

select
    md5(rule || outcome || submission_id || indicator_code || partner_code || period
        || coalesce(place_code, '*') || coalesce(disaggregation, '*')) as flag_id,
    *
from final
