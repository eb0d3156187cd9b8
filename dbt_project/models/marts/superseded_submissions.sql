-- Every submission superseded for a partner, reporting unit and period, by what, under which
-- rule, in how many slices, and how the values changed there: a resubmission (same inbox
-- folder) or an overlap (a consolidated file and a partner's own file reporting the same
-- slices). A submission is superseded only in the slices the later one reports (see
-- intermediate.int_submission_claims); its other values stay current.
with claims as (
    select * from {{ ref('int_submission_claims') }}
),

changes as (
    select * from {{ ref('int_supersession_changes') }}
),

submissions as (
    select * from {{ ref('stg_landing__submissions') }}
),

whole_pairs as (
    -- Claims replaced in full.
    select
        partner_code,
        reporting_unit,
        period,
        submission_id as superseded_submission_id,
        superseded_by as current_submission_id,
        supersede_by,
        overlap_rule,
        indicator_codes,
        values_claimed
    from claims
    where superseded_by is not null
),

part_pairs as (
    -- Claims replaced in part, by a finer newer claim (a correction after a complete return):
    -- the values of that part, as compared key by key.
    select
        claims.partner_code,
        claims.reporting_unit,
        claims.period,
        claims.submission_id as superseded_submission_id,
        part.submission_id as current_submission_id,  -- noqa: RF01
        claims.supersede_by,
        claims.overlap_rule,
        [split_part(part.slice_key, '|', 1)] as indicator_codes,  -- noqa: RF01
        0 as values_claimed
    from claims
    cross join unnest(claims.covered_in_part_by) as parts (part)
),

pairs as (
    select
        partner_code,
        reporting_unit,
        period,
        superseded_submission_id,
        current_submission_id,
        any_value(supersede_by) as supersede_by,
        any_value(overlap_rule) as overlap_rule,
        count(*) as slices_superseded,
        array_to_string(list_sort(list_distinct(flatten(list(indicator_codes)))), ', ')
            as indicators,
        sum(values_claimed) as values_claimed
    from (
        select * from whole_pairs
        union all
        select * from part_pairs
    ) as both_kinds
    group by
        partner_code, reporting_unit, period, superseded_submission_id,
        current_submission_id
),

counted as (
    select
        partner_code,
        reporting_unit,
        period,
        superseded_submission_id,
        current_submission_id,
        count(*) filter (where change = 'added') as values_added,
        count(*) filter (where change = 'changed') as values_changed,
        count(*) filter (where change = 'removed') as values_removed,
        count(*) filter (where change = 'withdrawn') as values_withdrawn,
        count(*) filter (where change = 'unchanged') as values_unchanged,
        count(*) filter (where superseded_value is not null) as values_compared
    from changes
    group by all
),

final as (
    select
        pairs.partner_code,
        pairs.reporting_unit,
        pairs.period,
        pairs.superseded_submission_id,
        older.file_name as superseded_file,
        older.folder as superseded_folder,
        older.arrived_at as superseded_arrived_at,
        pairs.current_submission_id,
        newer.file_name as current_file,
        newer.folder as current_folder,
        newer.arrived_at as current_arrived_at,
        case when older.folder = newer.folder then 'resubmission' else 'overlap' end as kind,
        case
            when
                pairs.overlap_rule = 'partner_files_first'
                and newer.folder = pairs.partner_code and older.folder <> pairs.partner_code
                then 'partner_files_first: the partner''s own file wins over a consolidated one'
            else 'latest_arrival: the submission that arrived last wins'
        end as rule_applied,
        pairs.supersede_by,
        pairs.slices_superseded,
        pairs.indicators,
        greatest(pairs.values_claimed, coalesce(counted.values_compared, 0)) as values_before,
        coalesce(counted.values_added, 0) as values_added,
        coalesce(counted.values_changed, 0) as values_changed,
        coalesce(counted.values_removed, 0) as values_removed,
        coalesce(counted.values_withdrawn, 0) as values_withdrawn,
        coalesce(counted.values_unchanged, 0) as values_unchanged
    from pairs
    left join counted
        using (
            partner_code, reporting_unit, period, superseded_submission_id,
            current_submission_id
        )
    inner join submissions as older on pairs.superseded_submission_id = older.submission_id
    inner join submissions as newer on pairs.current_submission_id = newer.submission_id
)

select * from final
