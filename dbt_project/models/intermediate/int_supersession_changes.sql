-- For every claim superseded in a slice (int_submission_claims), how the claim that superseded
-- it differs, key by key: added, changed, removed, withdrawn (explicitly) or unchanged. Only
-- the slice is compared: values of the older submission outside it are not touched.
with claims as (
    select * from {{ ref('int_submission_claims') }}
),

accepted as (
    select
        submission_id,
        partner_code,
        reporting_unit,
        period,
        slice_key,
        indicator_code,
        place_code,
        disaggregation,
        sum(value) as value,
        bool_or(is_withdrawal) as is_withdrawal
    from {{ ref('int_records_validated') }}
    where quarantine_reason is null
    group by all
),

pairs as (
    select
        partner_code,
        reporting_unit as superseded_unit,
        period,
        slice_key,
        submission_id as superseded_submission_id,
        superseded_by as current_submission_id
    from claims
    where superseded_by is not null
),

superseded_side as (
    select
        pairs.*,
        accepted.indicator_code,
        accepted.place_code,
        accepted.disaggregation,
        accepted.value
    from pairs
    inner join accepted
        on
            pairs.superseded_submission_id = accepted.submission_id
            and pairs.partner_code = accepted.partner_code
            and pairs.superseded_unit = accepted.reporting_unit
            and pairs.period = accepted.period
            and pairs.slice_key = accepted.slice_key
            and not accepted.is_withdrawal
),

current_side as (
    select
        pairs.partner_code,
        pairs.superseded_unit,
        pairs.period,
        pairs.slice_key,
        pairs.superseded_submission_id,
        pairs.current_submission_id,
        accepted.indicator_code,
        accepted.place_code,
        accepted.disaggregation,
        sum(accepted.value) as value,
        bool_or(accepted.is_withdrawal) as is_withdrawal
    from pairs
    inner join accepted
        on
            pairs.current_submission_id = accepted.submission_id
            and pairs.partner_code = accepted.partner_code
            and pairs.period = accepted.period
            and pairs.slice_key = accepted.slice_key
            and (
                pairs.superseded_unit = accepted.reporting_unit
                or accepted.reporting_unit = '' or pairs.superseded_unit = ''
            )
    group by all
),

compared as (
    select
        coalesce(old.partner_code, new.partner_code) as partner_code,
        coalesce(old.superseded_unit, new.superseded_unit) as reporting_unit,
        coalesce(old.period, new.period) as period,
        coalesce(old.slice_key, new.slice_key) as slice_key,
        coalesce(old.superseded_submission_id, new.superseded_submission_id)
            as superseded_submission_id,
        coalesce(old.current_submission_id, new.current_submission_id) as current_submission_id,
        coalesce(old.indicator_code, new.indicator_code) as indicator_code,
        coalesce(old.place_code, new.place_code) as place_code,
        coalesce(old.disaggregation, new.disaggregation) as disaggregation,
        old.value as superseded_value,
        new.value as current_value,
        case
            when old.value is null then 'added'
            when new.is_withdrawal then 'withdrawn'
            when new.value is null then 'removed'
            -- Sums of decimals differ in their last bits with the order they are added in:
            -- the same rows in another order are not a change (the digest's rule too).
            when
                abs(old.value - new.value)
                > greatest(1e-9 * greatest(abs(old.value), abs(new.value)), 1e-9)
                then 'changed'
            else 'unchanged'
        end as change
    from superseded_side as old
    full outer join current_side as new
        on
            old.superseded_submission_id = new.superseded_submission_id
            and old.partner_code = new.partner_code
            and old.superseded_unit = new.superseded_unit
            and old.period = new.period
            and old.slice_key = new.slice_key
            and old.indicator_code = new.indicator_code
            and old.place_code = new.place_code
            and old.disaggregation = new.disaggregation
    -- A withdrawal of a key the older submission did not have changes nothing.
    where not (old.value is null and coalesce(new.is_withdrawal, false))
)

select * from compared
