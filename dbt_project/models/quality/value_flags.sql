-- Values that look wrong against the partner's own history (WHO Data Quality Review):
--   outlier               per series (partner x reporting unit x indicator x place x
--                         breakdown), once it has outlier_min_history values, on what the
--                         series' own trend (Theil's robust line) does not explain - the residuals -
--                         so steady growth is not flagged and a spike on a growing series still
--                         is: moderate when |z| >= outlier_moderate_z or |modified z| >=
--                         outlier_moderate_modified_z for outlier_moderate_persistence
--                         periods in a row on the same side of the trend (one crossing is
--                         noise, about one value in 20), extreme at the _extreme_ thresholds
--                         (always); modified z = 0.6745 (r - median r) / MAD of residuals r.
--   consistency_over_time per partner and indicator (over places and breakdowns, by the
--                         indicator's rule: summed, or a price's median...): the
--                         period's total / mean of the consistency_periods preceding periods,
--                         flagged outside 1 +/- consistency_tolerance.
-- Both the current values and superseded ones are judged against the current history, so a
-- scorecard can tell which flags a resubmission resolved.
{{ partner_incremental_config() }}

with changed as (
    {{ changed_partners() }}
),

outcomes as (
    select outcomes.* exclude (partner_inputs)
    from {{ ref('int_records_outcomes') }} as outcomes
    inner join changed using (partner_key)
    where outcome in ('current', 'superseded')
),

indicators as (
    select * from {{ ref('stg_registry__indicators') }}
),

summed_mappings as (
    -- Mappings that may give a key several current rows: rows that add up, or one row per
    -- site (dedupe_by): the key's value is their sum.
    select mapping_name from {{ ref('stg_registry__mappings') }}
    where duplicate_keys <> 'quarantine' or dedupes_by_site
),

keyed as (
    -- One value per key and submission. A mapping whose rows add up (duplicate_keys: sum) may
    -- give a key several rows: added up here. Any other mapping gives a key one row (the later
    -- ones are quarantined): taken as it is, not grouped (grouping every record was the
    -- slowest step of this model).
    select
        outcome,
        submission_id,
        indicator_code,
        partner_code,
        reporting_unit,
        period,
        period_start,
        {{ period_index('period_start') }} as period_index,
        place_code,
        disaggregation,
        value,
        record_id,
        file_name,
        sheet,
        row_number,
        column_name
    from outcomes
    where
        not exists (
            select 1 from summed_mappings
            where summed_mappings.mapping_name = outcomes.mapping_name
        )
    union all
    select
        outcome,
        submission_id,
        indicator_code,
        partner_code,
        reporting_unit,
        period,
        period_start,
        {{ period_index('period_start') }} as period_index,
        place_code,
        disaggregation,
        sum(value) as value,
        min(record_id) as record_id,
        arg_min(file_name, record_id) as file_name,
        arg_min(sheet, record_id) as sheet,
        arg_min(row_number, record_id) as row_number,
        arg_min(column_name, record_id) as column_name
    from outcomes
    where mapping_name in (select summed_mappings.mapping_name from summed_mappings)
    group by all
),

series as (
    -- Each series' current values in period order, as lists: its trend and spread are worked
    -- out on the lists, a series at a time (four medians each joined back to every value of
    -- the history were this model's slowest part).
    select
        indicator_code,
        partner_code,
        reporting_unit,
        place_code,
        disaggregation,
        list(value order by period_index) as points,
        list(period_index order by period_index) as indexes,
        count(*) as history_values
    from keyed
    where outcome = 'current'
    group by all
),

slopes as (
    -- The series' own trend, robustly (Theil's method): the median of the slopes between
    -- each value of the first half and its partner half a series later, so one wild value
    -- moves at most one of them; linear in the series' length.
    select
        * exclude (history_values),
        history_values,
        coalesce(
            list_median(list_transform(
                range(1, history_values - history_values // 2 + 1),
                lambda i: (points[i + history_values // 2] - points[i])
                / (indexes[i + history_values // 2] - indexes[i])
            )),
            0
        ) as slope
    from series
),

fits as (
    select
        *,
        list_median(list_transform(
            range(1, history_values + 1), lambda i: points[i] - slope * indexes[i]
        )) as intercept
    from slopes
),

residuals as (
    select
        *,
        list_transform(
            range(1, history_values + 1),
            lambda i: points[i] - (intercept + slope * indexes[i])
        ) as residual
    from fits
),

spread as (
    select
        *,
        list_avg(residual) as mean_residual,
        list_stddev_samp(residual) as sd_residual,
        list_median(residual) as median_residual
    from residuals
),

deviations as (
    select
        indicator_code,
        partner_code,
        reporting_unit,
        place_code,
        disaggregation,
        history_values,
        slope,
        intercept,
        mean_residual,
        sd_residual,
        median_residual,
        list_median(list_transform(residual, lambda r: abs(r - median_residual)))
            as mad_residual
    from spread
),

scored as (
    -- The WHO thresholds applied to what the trend does not explain: the value's distance
    -- from its series' trend line, against the spread of the series around it.
    select
        keyed.*,
        deviations.history_values,
        deviations.slope,
        deviations.intercept + deviations.slope * keyed.period_index as trend_value,
        keyed.value - (deviations.intercept + deviations.slope * keyed.period_index)
            as residual,
        deviations.mean_residual,
        deviations.sd_residual,
        deviations.median_residual,
        deviations.mad_residual,
        indicators.short_name as indicator_name,
        indicators.unit,
        indicators.quality_outlier_moderate_z as moderate_z,
        indicators.quality_outlier_moderate_modified_z as moderate_mz,
        indicators.quality_outlier_extreme_z as extreme_z,
        indicators.quality_outlier_extreme_modified_z as extreme_mz,
        indicators.quality_outlier_min_history as min_history,
        coalesce(indicators.quality_outlier_moderate_persistence, 1) as moderate_persistence
    from keyed
    inner join deviations
        using (indicator_code, partner_code, reporting_unit, place_code, disaggregation)
    inner join indicators using (indicator_code)
),

outliers as (
    select
        *,
        case
            when sd_residual > 0
                then (residual - mean_residual) / sd_residual
        end as z_score,
        case
            when mad_residual > 0
                then 0.6745 * (residual - median_residual) / mad_residual
        end as modified_z_score,
        trend_value + greatest(
            mean_residual - moderate_z * coalesce(sd_residual, 0),
            median_residual - moderate_mz * coalesce(mad_residual, 0) / 0.6745
        ) as expected_low,
        trend_value + least(
            mean_residual + moderate_z * coalesce(sd_residual, 0),
            median_residual + moderate_mz * coalesce(mad_residual, 0) / 0.6745
        ) as expected_high
    from scored
    where history_values >= min_history
),

graded as (
    -- How far beyond the thresholds each value is, before persistence is asked about.
    select
        *,
        case
            when abs(z_score) >= extreme_z or abs(modified_z_score) >= extreme_mz then 'extreme'
            when abs(z_score) >= moderate_z or abs(modified_z_score) >= moderate_mz
                then 'moderate'
        end as grade,
        case when coalesce(z_score, modified_z_score) < 0 then -1 else 1 end as direction
    from outliers
),

beyond as (
    -- The current values beyond the moderate thresholds (extreme ones too), numbered into
    -- runs of consecutive periods on the same side of their series' trend.
    select
        indicator_code,
        partner_code,
        reporting_unit,
        place_code,
        disaggregation,
        direction,
        period_index,
        period_index - row_number() over (
            partition by
                indicator_code, partner_code, reporting_unit, place_code, disaggregation,
                direction
            order by period_index
        ) as run_id
    from graded
    where outcome = 'current' and grade is not null
),

runs as (
    select
        indicator_code,
        partner_code,
        reporting_unit,
        place_code,
        disaggregation,
        direction,
        run_id,
        min(period_index) as first_index,
        max(period_index) as last_index
    from beyond
    group by all
),

persisting as (
    -- Each moderate value's run: the periods in a row, itself included, that lie beyond the
    -- thresholds on its side of the trend (a superseded value: with the current values
    -- around it). Noise crosses |z| = 2 about once in 20 values, twice in a row on one side
    -- about once in 1,600: a run is a pattern worth a partner's check, one crossing is not.
    select
        graded.record_id,
        1 + sum(
            case
                when runs.first_index <= graded.period_index - 1
                    then least(runs.last_index, graded.period_index - 1) - runs.first_index + 1
                else 0
            end
            + case
                when runs.last_index >= graded.period_index + 1
                    then
                        1 + runs.last_index
                        - greatest(runs.first_index, graded.period_index + 1)
                else 0
            end
        ) as periods_in_a_row
    from graded
    inner join runs
        on
            graded.indicator_code = runs.indicator_code
            and graded.partner_code = runs.partner_code
            and graded.reporting_unit = runs.reporting_unit
            and graded.place_code = runs.place_code
            and graded.disaggregation = runs.disaggregation
            and graded.direction = runs.direction
            and runs.first_index <= graded.period_index + 1
            and runs.last_index >= graded.period_index - 1
    where graded.grade = 'moderate'
    group by graded.record_id
),

severities as (
    -- Extreme values are always flagged; moderate ones when they persist
    -- (outlier_moderate_persistence periods in a row; 1 flags every one).
    select
        graded.*,
        coalesce(persisting.periods_in_a_row, 1) as periods_in_a_row,
        case
            when graded.grade = 'extreme' then 'extreme'
            when
                graded.grade = 'moderate'
                and coalesce(persisting.periods_in_a_row, 1) >= graded.moderate_persistence
                then 'moderate'
        end as severity
    from graded
    left join persisting on graded.record_id = persisting.record_id
),

outlier_flags as (
    select
        'outlier' as rule,
        severity,
        outcome,
        submission_id,
        indicator_code,
        partner_code,
        reporting_unit,
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
        || ' outlier against the trend of this partner''s ' || history_values
        || ' values for ' || indicator_name || ' here'
        || case
            when severity = 'moderate' and periods_in_a_row > 1
                then
                    ', ' || periods_in_a_row || ' periods in a row '
                    || case when direction < 0 then 'below' else 'above' end || ' it'
            else ''
        end
        || ' (expected about ' || {{ format_number('expected_low') }} || ' to '
        || {{ format_number('expected_high') }} || ')' as description,
        record_id,
        file_name,
        sheet,
        row_number,
        column_name
    from severities
    where severity is not null
),

partner_totals as (
    -- Current values roll up (by the indicator's rule across places: a sum, a median price...)
    -- over the submissions that speak for the period; a superseded submission is judged on its
    -- own total.
    select
        keyed.outcome,
        case when keyed.outcome = 'superseded' then keyed.submission_id end
            as superseded_submission,
        keyed.indicator_code,
        keyed.partner_code,
        keyed.period,
        keyed.period_start,
        any_value(keyed.submission_id) as submission_id,
        {{ place_aggregate('keyed.value', 'indicators.place_aggregation') }} as value,
        min(keyed.record_id) as record_id,
        min(keyed.file_name) as file_name
    from keyed
    inner join indicators using (indicator_code)
    group by
        keyed.outcome, superseded_submission, keyed.indicator_code, keyed.partner_code,
        keyed.period, keyed.period_start
),

current_totals as (
    select
        *,
        {{ period_index('period_start') }} as period_index
    from partner_totals
    where outcome = 'current'
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
            where
                earlier.indicator_code = totals.indicator_code
                and earlier.partner_code = totals.partner_code
                and earlier.period_index between
                {{ period_index('totals.period_start') }} - indicators.quality_consistency_periods
                and {{ period_index('totals.period_start') }} - 1
        ) as preceding_mean,
        (
            select count(*) from current_totals as earlier
            where
                earlier.indicator_code = totals.indicator_code
                and earlier.partner_code = totals.partner_code
                and earlier.period_index between
                {{ period_index('totals.period_start') }} - indicators.quality_consistency_periods
                and {{ period_index('totals.period_start') }} - 1
        ) as preceding_periods
    from partner_totals as totals
    inner join indicators using (indicator_code)
    where indicators.aggregation <> 'ratio'
),

consistency_flags as (
    select
        'consistency_over_time' as rule,
        'flag' as severity,
        outcome,
        submission_id,
        indicator_code,
        partner_code,
        null::varchar as reporting_unit,
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
    where
        preceding_periods = periods_needed
        and preceding_mean > 0
        and abs(value / preceding_mean - 1) > tolerance
),

final as (
    select * from outlier_flags
    union all
    select * from consistency_flags
)

select
    md5(
        rule || outcome || submission_id || indicator_code || partner_code
        || coalesce(reporting_unit, '*') || period || coalesce(place_code, '*')
        || coalesce(disaggregation, '*')
    ) as flag_id,
    final.*,
    final.partner_code as partner_key,
    changed.partner_inputs
from final
inner join changed on final.partner_code = changed.partner_key
