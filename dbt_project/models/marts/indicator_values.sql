-- The harmonised values: one per indicator, partner, period, place and breakdown, from the
-- submission that currently speaks for that partner and period.
with outcomes as (
    select * from {{ ref('int_records_outcomes') }}
),

final as (
    select
        record_id,
        indicator_code,
        partner_code,
        period,
        period_start,
        place_code,
        disaggregation,
        value,
        value_text as reported_text,
        unit_factor,
        submission_id,
        file_name,
        sheet,
        row_number,
        column_name,
        arrived_at
    from outcomes
    where outcome = 'current'
)

select * from final
