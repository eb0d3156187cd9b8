-- The submission quality scorecard: one row per partner and report period (expected or
-- received), every part visible. Rule (docs/checks.md, "Submission scorecard"):
--   completeness  1 if a report was received, else 0 (a partner with reporting units: the
--                 share of its units that reported)
--   timeliness    1 if the first one arrived by the due date, else 0; not scored (null) when
--                 its arrival is unknown (partner_period_reports)
--   validity      rows accepted / rows of the partner's data for the period in the submissions
--                 that speak for it (current in a slice of it, or the latest whose rows were all
--                 quarantined); rows that carry values only: totals and rows reporting nothing
--                 are not counted against it, blank and empty template rows are not data)
--   plausibility  1 - flagged values / values reported (outliers, consistency over time and
--                 relations between indicators each count once per value or total flagged)
--   score         100 x weighted sum of the parts (weights in initiative.yaml; a report not
--                 received scores 0)
-- Also: zeros reported and values missing (reported in the previous period, not in this one)
-- are counted apart - zero is not missing - and flags on superseded submissions that the
-- current one no longer has are counted as resolved.
-- A partner's scorecard follows from its own records, the rules and the day it is judged on:
-- rebuilt for the partners whose records changed, every partner when the day or the rules did.
{{ keyed_incremental_config(
    'partner_key', 'partner_inputs', 'scorecard_inputs',
    "select partner_code from {{ ref('partner_period_reports') }}") }}

with changed as (
    {{ changed_scorecard_partners() }}
),

reports as (
    select * from {{ ref('partner_period_reports') }}
    where partner_code in (select partner_key from changed)
),

partners as (
    select * from {{ ref('stg_registry__partners') }}
),

initiative as (
    select * from {{ ref('stg_registry__initiative') }}
),

outcomes as (
    select
        outcomes.*,
        {{ report_start_of('partners.report_grain', 'outcomes.period_start') }} as report_start
    from {{ ref('int_records_outcomes') }} as outcomes
    inner join partners using (partner_code)
    where outcomes.partner_code in (select partner_key from changed)
),

submissions as (
    select * from {{ ref('submissions') }}
),

value_flags as (
    select
        value_flags.*,
        {{ report_start_of('partners.report_grain',
                           "cast(value_flags.period || '-01' as date)") }} as report_start
    from {{ ref('value_flags') }} as value_flags
    inner join partners using (partner_code)
    where
        value_flags.period not like '%-W%'
        and value_flags.partner_code in (select partner_key from changed)
    union all
    select
        value_flags.*,
        {{ report_start_of('partners.report_grain',
                           "strptime(value_flags.period || '-1', '%G-W%V-%u')") }} as report_start
    from {{ ref('value_flags') }} as value_flags
    inner join partners using (partner_code)
    where
        value_flags.period like '%-W%'
        and value_flags.partner_code in (select partner_key from changed)
),

outcome_periods as (
    select distinct
        partner_code,
        period,
        report_start
    from outcomes
),

relation_flags as (
    select
        relation_flags.*,
        outcome_periods.report_start
    from {{ ref('relation_flags') }} as relation_flags
    inner join outcome_periods using (partner_code, period)
),

submission_periods as (
    select
        partner_code,
        report_start,
        submission_id,
        any_value(arrived_at) as arrived_at,
        bool_or(outcome in ('current', 'withdrawn')) as speaks,
        bool_and(outcome = 'quarantined') as all_quarantined
    from outcomes
    where partner_code is not null
    group by all
),

last_speaking as (
    select
        partner_code,
        report_start,
        max(arrived_at) filter (where speaks) as last_spoke_at
    from submission_periods
    group by all
),

speaking as (
    -- The submissions that speak for each partner and report period: every one that is current
    -- in a slice of it, and the latest one whose rows for it were all quarantined if it came
    -- after them (the partner's latest word, which claims nothing).
    select
        submission_periods.partner_code,
        submission_periods.report_start,
        submission_periods.submission_id,
        submission_periods.arrived_at
    from submission_periods
    inner join last_speaking using (partner_code, report_start)
    where
        submission_periods.speaks
        or (
            submission_periods.all_quarantined
            and submission_periods.arrived_at >= coalesce(
                last_speaking.last_spoke_at,
                submission_periods.arrived_at
            )
        )
    qualify submission_periods.speaks or row_number() over (
        partition by
            submission_periods.partner_code, submission_periods.report_start,
            submission_periods.speaks
        order by submission_periods.arrived_at desc, submission_periods.submission_id desc
    ) = 1
),

speaking_files as (
    select
        speaking.partner_code,
        speaking.report_start,
        arg_max(speaking.submission_id, speaking.arrived_at) as submission_id,
        string_agg(submissions.file_name, ', ' order by speaking.arrived_at) as file_name,
        count(*) as submissions_speaking
    from speaking
    inner join submissions using (submission_id)
    group by all
),

partner_rows as (
    -- The partner's rows for the period in the submissions that speak for it.
    select
        rows.*,
        {{ report_start_of('partners.report_grain', 'rows.period_start') }} as report_start
    from {{ ref('int_row_outcomes') }} as rows
    inner join partners using (partner_code)
    inner join speaking
        on
            rows.submission_id = speaking.submission_id
            and rows.partner_code = speaking.partner_code
            and speaking.report_start
            = {{ report_start_of('partners.report_grain', 'rows.period_start') }}
    where rows.partner_code in (select partner_key from changed)
),

row_counts as (
    select
        partner_code,
        report_start,
        count(*) as data_rows,
        count(*) filter (where not any_quarantined) as rows_accepted,
        count(*) filter (where any_quarantined) as rows_quarantined,
        count(*) filter (where not_data) as rows_not_data
    from partner_rows
    group by all
),

current_values as (
    select
        partner_code,
        report_start,
        indicator_code,
        place_code,
        disaggregation,
        period,
        sum(value) as value
    from outcomes
    where outcome = 'current'
    group by all
),

value_counts as (
    select
        partner_code,
        report_start,
        count(*) as values_reported,
        count(*) filter (where value = 0) as zeros_reported
    from current_values
    group by all
),

previous_keys as (
    select
        this.partner_code,
        this.report_start,
        count(*) as values_missing
    from (select distinct
        partner_code,
        report_start
    from current_values) as this
    inner join partners using (partner_code)
    inner join current_values as before
        on
            this.partner_code = before.partner_code
            and before.report_start
            = cast(this.report_start - {{ report_step('partners.report_grain') }} as date)
    where
        not exists (
            select 1 from current_values as now
            where
                now.partner_code = this.partner_code
                and now.report_start = this.report_start
                and now.indicator_code = before.indicator_code
                and now.place_code = before.place_code
                and now.disaggregation = before.disaggregation
        )
    group by all
),

flag_counts as (
    select
        partner_code,
        report_start,
        count(*) filter (where rule = 'outlier' and severity = 'moderate') as outliers_moderate,
        count(*) filter (where rule = 'outlier' and severity = 'extreme') as outliers_extreme,
        count(*) filter (where rule = 'consistency_over_time') as consistency_flags
    from value_flags
    where outcome = 'current'
    group by all
),

resolved as (
    select
        partner_code,
        report_start,
        count(*) as flags_resolved
    from value_flags as earlier
    where
        outcome = 'superseded'
        and not exists (
            select 1 from value_flags as now
            where
                now.outcome = 'current'
                and now.rule = earlier.rule
                and now.partner_code = earlier.partner_code
                and now.period = earlier.period
                and now.indicator_code = earlier.indicator_code
                and coalesce(now.place_code, '') = coalesce(earlier.place_code, '')
                and coalesce(now.disaggregation, '') = coalesce(earlier.disaggregation, '')
        )
    group by all
),

unit_counts as (
    -- Partners whose reporting units send their own files: how many of the units reported.
    select
        partner_code,
        report_start,
        count(*) as units_expected,
        count(*) filter (where received) as units_reported
    from {{ ref('reporting_unit_reports') }}
    where partner_code in (select partner_key from changed)
    group by all
),

relation_counts as (
    select
        partner_code,
        report_start,
        count(*) as relation_flags
    from relation_flags
    group by all
),

assembled as (
    select
        reports.*,
        speaking_files.submission_id,
        speaking_files.file_name,
        coalesce(speaking_files.submissions_speaking, 0) as submissions_speaking,
        coalesce(row_counts.data_rows, 0) as data_rows,
        coalesce(row_counts.rows_accepted, 0) as rows_accepted,
        coalesce(row_counts.rows_quarantined, 0) as rows_quarantined,
        coalesce(row_counts.rows_not_data, 0) as rows_not_data,
        coalesce(value_counts.values_reported, 0) as values_reported,
        coalesce(value_counts.zeros_reported, 0) as zeros_reported,
        coalesce(previous_keys.values_missing, 0) as values_missing,
        coalesce(flag_counts.outliers_moderate, 0) as outliers_moderate,
        coalesce(flag_counts.outliers_extreme, 0) as outliers_extreme,
        coalesce(flag_counts.consistency_flags, 0) as consistency_flags,
        coalesce(relation_counts.relation_flags, 0) as relation_flags,
        coalesce(resolved.flags_resolved, 0) as flags_resolved,
        unit_counts.units_expected,
        unit_counts.units_reported
    from reports
    left join speaking_files using (partner_code, report_start)
    left join row_counts using (partner_code, report_start)
    left join value_counts using (partner_code, report_start)
    left join previous_keys using (partner_code, report_start)
    left join flag_counts using (partner_code, report_start)
    left join relation_counts using (partner_code, report_start)
    left join resolved using (partner_code, report_start)
    left join unit_counts using (partner_code, report_start)
),

parts as (
    select
        *,
        case
            when not received then 0.0
            when units_expected > 0 then units_reported / units_expected
            else 1.0
        end as completeness,
        -- Not scored when the arrival is unknown (history loaded long after it was sent).
        case when on_time then 1.0 when on_time is null and received then null else 0.0 end
            as timeliness,
        case
            when data_rows - rows_not_data > 0
                then rows_accepted / (data_rows - rows_not_data)
        end as validity,
        case
            when values_reported > 0 then greatest(0.0, 1 - (
                outliers_moderate
                + outliers_extreme + consistency_flags + relation_flags
            ) / values_reported)
        end as plausibility
    from assembled
),

final as (
    select
        parts.*,
        parts.partner_code as partner_key,
        changed.partner_inputs,
        case
            when not received then 0.0 else round(100 * (
                initiative.weight_completeness * completeness
                + initiative.weight_timeliness * coalesce(timeliness, 0)
                + initiative.weight_validity * coalesce(validity, 0)
                + initiative.weight_plausibility * coalesce(plausibility, 1)
            -- An unknown arrival is left out, its weight shared by the other parts.
            ) / case when timeliness is null then 1 - initiative.weight_timeliness else 1 end, 1)
        end as score
    from parts
    inner join changed on parts.partner_code = changed.partner_key
    cross join initiative
)

select * from final
