-- Which submission currently speaks for each partner and period: the latest to arrive. A
-- resubmission supersedes the earlier file as a whole (values it drops are no longer current).
with records as (
    select * from {{ ref('int_records_validated') }}
),

partner_periods as (
    select
        partner_code,
        period,
        submission_id,
        any_value(arrived_at) as arrived_at,
        any_value(landed_at) as landed_at,
        any_value(file_name) as file_name
    from records
    where partner_code is not null and period is not null
    group by partner_code, period, submission_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by partner_code, period
            order by arrived_at desc, landed_at desc, file_name desc, submission_id desc
        ) as recency,
        count(*) over (partition by partner_code, period) as submissions_for_period
    from partner_periods
)

select * from ranked
