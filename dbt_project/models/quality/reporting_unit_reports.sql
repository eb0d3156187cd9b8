-- The scorecard read per reporting unit (a partner's zone offices, projects or implementing
-- partners that send their own files): one row per partner, unit and report period from the
-- unit's first report (or, for a unit the partner declares but that never reported, from the
-- partner's reporting window) whose due date has passed, plus any report received early. A
-- unit's report is received when any submission carries values for it; on time when the first
-- arrived by the due date. Rows accepted and quarantined are the unit's rows in the
-- submissions that speak for it. Partners without units have no rows here.
with partners as (
    select * from {{ ref('stg_registry__partners') }}
),

partner_windows as (
    select * from {{ ref('int_partner_windows') }}
),

records as (
    select
        records.*,
        {{ report_start_of('partners.report_grain', 'records.period_start') }} as report_start
    from {{ ref('int_records_validated') }} as records
    inner join partners using (partner_code)
    where
        records.period_start is not null
        and {{ period_is_plausible('records.period_start', 'records.arrived_at') }}
        and records.reporting_unit is not null
        and records.reporting_unit <> ''
),

declared as (
    select
        partner_code,
        unit_code as reporting_unit,
        any_value(unit_name) as unit_name
    from {{ ref('stg_registry__reporting_units') }}
    group by all
),

reported as (
    select
        partner_code,
        reporting_unit,
        report_start,
        min(arrived_at) as first_arrival,
        count(distinct submission_id) as submissions
    from records
    group by all
),

first_reports as (
    select
        partner_code,
        reporting_unit,
        min(report_start) as first_report
    from reported
    group by all
),

units as (
    select
        coalesce(declared.partner_code, first_reports.partner_code) as partner_code,
        coalesce(declared.reporting_unit, first_reports.reporting_unit) as reporting_unit,
        coalesce(declared.unit_name, first_reports.reporting_unit) as unit_name,
        first_reports.first_report
    from declared
    full outer join first_reports using (partner_code, reporting_unit)
),

expected as (
    select
        units.partner_code,
        units.reporting_unit,
        cast(starts.report_start as date) as report_start
    from units
    inner join partner_windows using (partner_code)
    cross join
        unnest(range(
            cast(coalesce(units.first_report, partner_windows.window_start) as timestamp),
            cast(partner_windows.as_of as timestamp),
            {{ report_step('partner_windows.report_grain') }}
        )) as starts (report_start)
    where
        partner_windows.reports_until is null
        or starts.report_start <= partner_windows.reports_until
),

row_outcomes as (
    select
        rows.partner_code,
        rows.reporting_unit,
        {{ report_start_of('partners.report_grain', 'rows.period_start') }} as report_start,
        count(*) filter (where not rows.any_quarantined) as rows_accepted,
        count(*) filter (where rows.any_quarantined and not rows.not_data) as rows_quarantined
    from {{ ref('int_row_outcomes') }} as rows
    inner join partners using (partner_code)
    where rows.reporting_unit <> ''
    group by all
),

grid as (
    -- Every unit's expected report starts and every report received (outside them too).
    select
        coalesce(expected.partner_code, reported.partner_code) as partner_code,
        coalesce(expected.reporting_unit, reported.reporting_unit) as reporting_unit,
        coalesce(expected.report_start, reported.report_start) as report_start,
        expected.partner_code is not null as within_window
    from expected
    full outer join reported using (partner_code, reporting_unit, report_start)
),

final as (
    select
        grid.partner_code,
        partners.partner_name,
        grid.reporting_unit,
        units.unit_name,
        case partners.report_grain
            when 'week' then strftime(grid.report_start, '%G-W%V')
            when 'quarter'
                then
                    strftime(grid.report_start, '%Y') || '-Q'
                    || quarter(grid.report_start)
            else strftime(grid.report_start, '%Y-%m')
        end as report_period,
        grid.report_start,
        cast(
            grid.report_start + {{ report_step('partners.report_grain') }} - interval 1 day
            + to_days(partners.due_days) as date
        ) as due_date,
        grid.within_window
        and cast(
            grid.report_start + {{ report_step('partners.report_grain') }}
            - interval 1 day + to_days(partners.due_days) as date
        )
        < cast(partner_windows.as_of as date) as expected,
        reported.first_arrival is not null as received,
        reported.first_arrival,
        coalesce(reported.submissions, 0) as submissions,
        reported.first_arrival is not null
        and reported.first_arrival < cast(
            grid.report_start
            + {{ report_step('partners.report_grain') }}
            + to_days(partners.due_days) as timestamptz
        ) as on_time,
        coalesce(row_outcomes.rows_accepted, 0) as rows_accepted,
        coalesce(row_outcomes.rows_quarantined, 0) as rows_quarantined
    from grid
    inner join partners using (partner_code)
    inner join partner_windows using (partner_code)
    left join units using (partner_code, reporting_unit)
    left join reported using (partner_code, reporting_unit, report_start)
    left join row_outcomes using (partner_code, reporting_unit, report_start)
)

select * from final
where expected or received
