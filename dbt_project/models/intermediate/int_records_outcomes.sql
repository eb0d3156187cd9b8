-- Every record's outcome: current (in the published numbers), superseded (a later submission
-- speaks for its slice, see int_submission_claims), withdrawn (a withdrawal that speaks for its
-- slice: the key has no value) or quarantined (with its reason).
{{ partner_incremental_config() }}

with changed as (
    {{ changed_partners() }}
),

records as (
    select
        validated.*,
        changed.partner_key,
        changed.partner_inputs
    from {{ ref('int_records_validated') }} as validated
    inner join changed on changed.partner_key = coalesce(validated.partner_code, '')
),

claims as (
    select * from {{ ref('int_submission_claims') }}
),

final as (
    select
        records.*,
        case
            when records.quarantine_reason is not null then 'quarantined'
            when claims.is_current and records.is_withdrawal then 'withdrawn'
            when claims.is_current then 'current'
            else 'superseded'
        end as outcome,
        claims.superseded_by
    from records
    left join claims
        using (partner_code, reporting_unit, period, slice_key, submission_id)
)

select * from final
