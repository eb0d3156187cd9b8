-- Every record's outcome: current (in the published numbers), superseded (a later submission
-- speaks for its slice, or for the part of it that holds the value: int_submission_claims),
-- withdrawn (a withdrawal that speaks for its slice: the key has no value), deduplicated
-- (another row of the same site and key counts instead: dedupe_by), held (its submission is
-- held for review: int_held_submissions) or quarantined (with its reason).
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

held as (
    select submission_id from {{ ref('int_held_submissions') }}
),

own_claims as (
    select
        records.*,
        claims.is_current,
        claims.superseded_by as superseded_by_all
    from records
    left join claims
        using (partner_code, reporting_unit, period, slice_key, submission_id)
),

claims_in_part as (
    -- The few claims a finer, newer claim replaced in part (a correction of some keys after a
    -- complete return).
    select * from claims
    where len(covered_in_part_by) > 0
),

replaced_in_part as (
    -- A value in the part of its slice a finer, newer claim replaced: the newest such claim
    -- whose slice holds it.
    select
        records.record_id,
        arg_min(part.submission_id, part.precedence) as superseded_by  -- noqa: RF01
    from records
    inner join claims_in_part
        using (partner_code, reporting_unit, period, slice_key, submission_id)
    cross join unnest(claims_in_part.covered_in_part_by) as parts (part)
    where part.slice_key = {{ slice_key_at('part.depth', 'records') }}  -- noqa: RF01
    group by records.record_id
),

placed as (
    select
        own_claims.* exclude (is_current, superseded_by_all),
        case
            when own_claims.quarantine_reason is not null then 'quarantined'
            when own_claims.submission_id in (select submission_id from held) then 'held'
            when replaced_in_part.superseded_by is not null then 'superseded'
            when own_claims.is_current and own_claims.is_withdrawal then 'withdrawn'
            when own_claims.is_current then 'current'
            else 'superseded'
        end as outcome,
        coalesce(replaced_in_part.superseded_by, own_claims.superseded_by_all) as superseded_by
    from own_claims
    left join replaced_in_part using (record_id)
),

combined_mappings as (
    -- Mappings whose repeated values of one key at one site combine to one (max or first).
    select
        mapping_name,
        duplicate_keys
    from {{ ref('stg_registry__mappings') }}
    where duplicate_keys in ('max', 'first')
),

kept as (
    -- Repeated current values of one key at one site (dedupe_by), in a file or across the
    -- files that speak for it together (additive), combine by the mapping's duplicate_keys:
    -- the largest counts (max: activities at one site reach the same people) or the first;
    -- the others are deduplicated, not errors. (sum adds them all; quarantine already
    -- quarantined the later rows of a file.) Only those mappings' records are read again.
    select
        records.record_id,
        first_value(records.record_id) over (
            partition by
                records.indicator_code, records.partner_code, records.reporting_unit,
                records.period, records.place_code, records.disaggregation, records.dedupe_key
            order by
                case when combined_mappings.duplicate_keys = 'max' then -records.value end
                nulls last,
                records.arrived_at, records.sheet, records.row_number, records.column_name,
                records.record_id
        ) as kept_record_id
    from records
    inner join combined_mappings using (mapping_name)
    inner join claims
        using (partner_code, reporting_unit, period, slice_key, submission_id)
    where
        records.quarantine_reason is null
        and claims.is_current
        and not records.is_withdrawal
        and records.submission_id not in (select submission_id from held)
        and records.record_id not in (select record_id from replaced_in_part)
),

final as (
    select
        placed.* exclude (outcome),
        case
            when kept.kept_record_id <> placed.record_id then 'deduplicated'
            else placed.outcome
        end as outcome,
        case when kept.kept_record_id <> placed.record_id then kept.kept_record_id end
            as deduplicated_by
    from placed
    left join kept using (record_id)
)

select * from final
