-- Every record's outcome: current (in the published numbers), superseded (replaced by a later
-- submission for the same partner and period) or quarantined (with its reason).
with records as (
    select * from {{ ref('int_records_validated') }}
),

ranked as (
    select * from {{ ref('int_submissions_ranked') }}
),

final as (
    select
        records.*,
        case
            when records.quarantine_reason is not null then 'quarantined'
            when ranked.recency = 1 then 'current'
            else 'superseded'
        end as outcome,
        superseding.submission_id as superseded_by
    from records
    left join ranked using (partner_code, period, submission_id)
    left join ranked as superseding
        on superseding.partner_code = records.partner_code
        and superseding.period = records.period
        and superseding.recency = 1
        and ranked.recency > 1
)

select * from final
