-- Each partner's reporting window: the report periods it is expected to report. From its
-- reports_from, else the period of its first submission (a partner is expected from when it
-- joined, not from the initiative's start), never before the initiative's reporting_start;
-- else (nothing received yet) from reporting_start, else the earliest period with data. Until
-- its reports_until.
with partners as (
    select * from {{ ref('stg_registry__partners') }}
),

initiative as (
    select * from {{ ref('stg_registry__initiative') }}
),

records as (
    select
        partner_code,
        period_start
    from {{ ref('int_records_validated') }}
    where
        partner_code is not null and period_start is not null
        and {{ period_is_plausible('period_start', 'arrived_at') }}
),

first_reports as (
    select
        partner_code,
        min(period_start) as first_period
    from records
    group by partner_code
),

earliest as (
    select min(period_start) as first_period from records
),

final as (
    select
        partners.*,
        first_reports.first_period,
        cast(date_trunc(partners.report_grain, cast(coalesce(
            partners.reports_from,
            case
                when first_reports.first_period is null
                    then coalesce(initiative.reporting_start, earliest.first_period)
                when initiative.reporting_start > first_reports.first_period
                    then initiative.reporting_start
                else first_reports.first_period
            end
        ) as date)) as date) as window_start,
        case
            when partners.reports_from is not null then 'reports_from'
            when first_reports.first_period is null then 'reporting_start'
            else 'first submission'
        end as window_start_from,
        initiative.as_of
    from partners
    cross join initiative
    cross join earliest
    left join first_reports using (partner_code)
)

select * from final
