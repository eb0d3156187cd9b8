{#- For every claim replaced by a newer one (``claims``: int_submission_claims or its
    _proposed twin), how the newer differs key by key where they meet: added, changed, removed,
    withdrawn (explicitly) or unchanged. A claim replaced in full is compared over its whole
    slice; one replaced in part over the newer claim's slice only. Values of the older
    submission outside the slices compared are not touched. -#}
{% macro supersession_changes(claims, only_when_held=false) -%}
with claims as (
    select * from {{ ref(claims) }}
    {% if only_when_held -%}
    -- Worked out again only when a submission is held (else: the proposed changes).
    where exists (select 1 from {{ ref('int_held_submissions') }})
    {%- endif %}
),

pairs as (
    -- Each comparison: the older claim, the newer submission, and the slice compared (its
    -- grain as a depth, its key).
    select
        partner_code,
        reporting_unit as superseded_unit,
        period,
        slice_key,
        submission_id as superseded_submission_id,
        superseded_by as current_submission_id,
        depth as compared_depth,
        slice_key as compared_key
    from claims
    where superseded_by is not null
    union all
    select
        claims.partner_code,
        claims.reporting_unit,
        claims.period,
        claims.slice_key,
        claims.submission_id,
        part.submission_id,
        part.depth,
        part.slice_key
    from claims
    cross join unnest(claims.covered_in_part_by) as parts(part)
),

involved as (
    select superseded_submission_id as submission_id from pairs
    union
    select current_submission_id from pairs
),

accepted as (
    -- The accepted values of the submissions compared, with their slice's key at each grain.
    select
        records.submission_id,
        records.partner_code,
        records.reporting_unit,
        records.period,
        meet.depth as key_depth,
        {{ slice_key_at('meet.depth', 'records') }} as key_at,
        records.indicator_code,
        records.place_code,
        records.disaggregation,
        sum(records.value) as value,
        bool_or(records.is_withdrawal) as is_withdrawal
    from {{ ref('int_records_validated') }} as records
    cross join (values (0), (1), (2), (3)) as meet (depth)
    where
        records.quarantine_reason is null
        and records.submission_id in (select submission_id from involved)
    group by all
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
            and pairs.compared_depth = accepted.key_depth
            and pairs.compared_key = accepted.key_at
            and not accepted.is_withdrawal
),

current_side as (
    select
        pairs.partner_code,
        pairs.superseded_unit,
        pairs.period,
        pairs.slice_key,
        pairs.compared_key,
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
            and pairs.compared_depth = accepted.key_depth
            and pairs.compared_key = accepted.key_at
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
        coalesce(old.compared_key, new.compared_key) as compared_key,
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
            and old.current_submission_id = new.current_submission_id
            and old.partner_code = new.partner_code
            and old.superseded_unit = new.superseded_unit
            and old.period = new.period
            and old.slice_key = new.slice_key
            and old.compared_key = new.compared_key
            and old.indicator_code = new.indicator_code
            and old.place_code = new.place_code
            and old.disaggregation = new.disaggregation
    -- A withdrawal of a key the older submission did not have changes nothing.
    where not (old.value is null and coalesce(new.is_withdrawal, false))
)

select * from compared
{%- endmacro %}
