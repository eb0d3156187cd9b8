-- Each partner's quality over its latest expected report periods (scorecard.recent_reports in
-- initiative.yaml; as of the initiative's as_of moment), against the WHO Data Quality Review
-- targets set there too.
with scorecard as (
    select * from {{ ref('submission_scorecard') }}
    where expected
),

initiative as (
    select * from {{ ref('stg_registry__initiative') }}
),

recent as (
    select *
    from scorecard
    qualify
        row_number() over (partition by partner_code order by report_start desc)
        <= (select scorecard_reports from initiative)
),

final as (
    select
        recent.partner_code,
        any_value(recent.partner_name) as partner_name,
        count(*) as reports_expected,
        count(*) filter (where received) as reports_received,
        count(*) filter (where on_time) as reports_on_time,
        count(*) filter (where received) / count(*) as completeness,
        count(*) filter (where on_time) / nullif(count(on_time), 0) as timeliness,
        count(*) filter (where on_time is null and received) as reports_arrival_unknown,
        sum(rows_accepted) / nullif(sum(data_rows - rows_not_data), 0) as validity,
        avg(plausibility) as plausibility,
        round(avg(score), 1) as score,
        sum(outliers_moderate + outliers_extreme) as outliers,
        sum(consistency_flags) as consistency_flags,
        sum(relation_flags) as relation_flags,
        sum(flags_resolved) as flags_resolved,
        sum(zeros_reported) as zeros_reported,
        sum(values_missing) as values_missing,
        count(*) filter (where received) / count(*) >= any_value(initiative.completeness_target)
            as meets_completeness_target,
        coalesce(count(*) filter (where on_time) / nullif(count(on_time), 0), 1)
        >= any_value(initiative.timeliness_target)
            as meets_timeliness_target,
        min(recent.report_period) as first_period,
        max(recent.report_period) as last_period
    from recent
    cross join initiative
    group by recent.partner_code
)

select * from final
