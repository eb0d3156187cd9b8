-- For every submission superseded for a partner and period, how the submission now current
-- differs from it, key by key: added, changed, removed or unchanged.
with ranked as (
    select * from {{ ref('int_submissions_ranked') }}
),

accepted as (
    select
        submission_id,
        partner_code,
        period,
        indicator_code,
        place_code,
        disaggregation,
        sum(value) as value
    from {{ ref('int_records_validated') }}
    where quarantine_reason is null
    group by all
),

pairs as (
    select
        older.partner_code,
        older.period,
        older.submission_id as superseded_submission_id,
        current.submission_id as current_submission_id
    from ranked as older
    inner join ranked as current
        on current.partner_code = older.partner_code
        and current.period = older.period
        and current.recency = 1
    where older.recency > 1
),

sides as (
    -- Each pair's values on both sides: the superseded submission and the current one.
    select
        pairs.*,
        accepted.submission_id = pairs.current_submission_id as is_current,
        accepted.indicator_code,
        accepted.place_code,
        accepted.disaggregation,
        accepted.value
    from pairs
    inner join accepted
        on accepted.submission_id in (pairs.superseded_submission_id,
                                      pairs.current_submission_id)
        and accepted.partner_code = pairs.partner_code
        and accepted.period = pairs.period
),

superseded_side as (
    select * from sides where not is_current
),

current_side as (
    select * from sides where is_current
),

compared as (
    select
        coalesce(old.partner_code, new.partner_code) as partner_code,
        coalesce(old.period, new.period) as period,
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
            when new.value is null then 'removed'
            when old.value <> new.value then 'changed'
            else 'unchanged'
        end as change
    from superseded_side as old
    full outer join current_side as new
        on new.superseded_submission_id = old.superseded_submission_id
        and new.partner_code = old.partner_code
        and new.period = old.period
        and new.indicator_code = old.indicator_code
        and new.place_code = old.place_code
        and new.disaggregation = old.disaggregation
)

select * from compared
