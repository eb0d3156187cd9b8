-- Each source row's outcome, the unit partners count in: accepted when every value it carries
-- is accepted, quarantined when any is; not data when it is blank, a total or an empty template
-- row (kept and counted, not held against the partner).
with outcomes as (
    select * from {{ ref('int_records_outcomes') }}
),

final as (
    select
        submission_id,
        sheet,
        row_number,
        any_value(partner_code) filter (where partner_code is not null) as partner_code,
        min(period_start) as period_start,
        bool_or(outcome = 'quarantined') as any_quarantined,
        bool_and(is_not_data) as not_data
    from outcomes
    group by submission_id, sheet, row_number
)

select * from final
