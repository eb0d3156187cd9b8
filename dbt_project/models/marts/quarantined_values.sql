-- Everything not accepted, with where it came from and why, in words a partner can act on.
with outcomes as (
    select * from {{ ref('int_records_outcomes') }}
),

final as (
    select
        record_id,
        submission_id,
        coalesce(partner_code, folder) as partner_code,
        folder,
        file_name,
        sheet,
        row_number,
        column_name,
        period_text,
        place_text,
        indicator_text,
        value_text,
        quarantine_reason,
        is_not_data,
        arrived_at,
        -- As far as they could be read (null where the reason is that they could not): the
        -- indicator page marks the periods whose totals miss a quarantined value.
        indicator_code,
        period,
        place_code
    from outcomes
    where outcome = 'quarantined'
)

select * from final
