-- Which submission currently speaks for each partner and period. By the initiative's
-- overlap_rule: the latest to arrive (latest_arrival), or a partner's own file before a
-- consolidated one from a shared folder, then the latest (partner_files_first). A superseded
-- submission stays queryable; its values count as superseded (see marts.superseded_submissions).
with records as (
    select * from {{ ref('int_records_validated') }}
),

initiative as (
    select * from {{ source('registry', 'initiative') }}
),

partner_periods as (
    select
        partner_code,
        period,
        submission_id,
        any_value(folder) as folder,
        any_value(arrived_at) as arrived_at,
        any_value(landed_at) as landed_at,
        any_value(file_name) as file_name,
        any_value(folder) = partner_code as is_partner_file
    from records
    where partner_code is not null and period is not null
    group by partner_code, period, submission_id
),

ranked as (
    select
        partner_periods.*,
        initiative.overlap_rule,
        row_number() over (
            partition by partner_code, period
            order by
                case when initiative.overlap_rule = 'partner_files_first' and is_partner_file
                    then 0 else 1 end,
                arrived_at desc, landed_at desc, file_name desc, submission_id desc
        ) as recency,
        count(*) over (partition by partner_code, period) as submissions_for_period
    from partner_periods
    cross join initiative
)

select * from ranked
