-- Completeness and timeliness (WHO Data Quality Review; DHIS2 reporting rates): one row per
-- partner and report period it was expected to report (its reporting window,
-- int_partner_windows: from reports_from, else its first submission's period; until
-- reports_until) and
-- whose due date - the period's last day plus the partner's due_days - has passed at the
-- initiative's as_of moment, plus any report received early. A report is received when any
-- submission reports values for that partner and period; on time when the first one arrived by
-- the end of the due day (arrival = when the pipeline first saw the file, or the portal received
-- it: murmuration.intake.arrivals). A file first seen long after the periods it reports (every
-- one of them ended more than a year before: history loaded today) has no known arrival: it
-- counts as received, not as late or on time, until its arrival is recorded (`murmuration
-- arrivals set`, the portal, or the watcher seeing it when it is sent).
with partners as (
    select * from {{ ref('stg_registry__partners') }}
),

partner_windows as (
    select * from {{ ref('int_partner_windows') }}
),

initiative as (
    select * from {{ ref('stg_registry__initiative') }}
),

submission_periods as (
    -- Each submission's periods once (the records are many; a file's periods are few).
    select distinct
        submission_id,
        partner_code,
        period_start,
        arrived_at
    from {{ ref('int_records_validated') }}
    where
        partner_code is not null and period_start is not null
        -- a period that cannot be (9999-12, 0205-01) is quarantined, not a report
        and {{ period_is_plausible('period_start', 'arrived_at') }}
),

records as (
    select
        submission_periods.*,
        submissions.arrival_source in ('run', 'sensor', 'file_time')
        and max(submission_periods.period_start) over (partition by submission_periods.submission_id)
        + interval 13 month <= cast(submission_periods.arrived_at as date) as arrival_unknown
    from submission_periods
    left join {{ ref('stg_landing__submissions') }} as submissions using (submission_id)
),

reported as (
    select
        records.partner_code,
        {{ report_start_of('partners.report_grain', 'records.period_start') }} as report_start,
        min(records.arrived_at) filter (where not records.arrival_unknown) as first_arrival,
        bool_and(records.arrival_unknown) as arrival_unknown,
        count(distinct records.submission_id) as submissions
    from records
    inner join partners using (partner_code)
    group by all
),

windows as (
    select
        partner_windows.*,
        {{ report_step('partner_windows.report_grain') }} as step
    from partner_windows
),

expected as (
    select
        windows.partner_code,
        cast(starts.report_start as date) as report_start,
        windows.report_grain,
        windows.due_days,
        windows.step,
        windows.as_of
    from windows
    cross join
        unnest(range(
            cast(date_trunc(windows.report_grain, windows.window_start) as timestamp),
            cast(windows.as_of as timestamp), windows.step
        )) as starts (report_start)
    where windows.reports_until is null or starts.report_start <= windows.reports_until
),

grid as (
    select
        coalesce(expected.partner_code, reported.partner_code) as partner_code,
        coalesce(expected.report_start, reported.report_start) as report_start,
        reported.first_arrival,
        coalesce(reported.arrival_unknown, false) as arrival_unknown,
        coalesce(reported.submissions, 0) as submissions,
        expected.partner_code is not null as within_window
    from expected
    full outer join reported using (partner_code, report_start)
),

dated as (
    select
        grid.*,
        partners.partner_name,
        partners.report_grain,
        partners.due_days,
        cast(
            grid.report_start + {{ report_step('partners.report_grain') }} - interval 1 day
            as date
        ) as report_end,
        initiative.as_of
    from grid
    inner join partners using (partner_code)
    cross join initiative
),

final as (
    select
        partner_code,
        partner_name,
        report_grain,
        case report_grain
            when 'week' then strftime(report_start, '%G-W%V')
            when 'quarter' then strftime(report_start, '%Y') || '-Q' || quarter(report_start)
            else strftime(report_start, '%Y-%m')
        end as report_period,
        report_start,
        report_end,
        cast(report_end + to_days(due_days) as date) as due_date,
        within_window
        and cast(report_end + to_days(due_days) as date) < cast(as_of as date) as expected,
        first_arrival is not null or arrival_unknown as received,
        first_arrival,
        arrival_unknown,
        submissions,
        case
            when arrival_unknown then null
            else
                first_arrival is not null
                and first_arrival < cast(report_end + to_days(due_days + 1) as timestamptz)
        end as on_time,
        case when first_arrival is not null then greatest(0, datediff(
            'day',
            cast(report_end + to_days(due_days) as date), cast(first_arrival as date)
        )) end
            as days_late
    from dated
)

select * from final
where expected or received
