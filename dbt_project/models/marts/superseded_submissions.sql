-- Every submission superseded for a partner and period, by what, under which rule, and how the
-- values changed: a resubmission (same inbox folder) or an overlap (a consolidated file and a
-- partner's own file reporting the same partner and period).
with ranked as (
    select * from {{ ref('int_submissions_ranked') }}
),

changes as (
    select * from {{ ref('int_supersession_changes') }}
),

counted as (
    select
        partner_code,
        period,
        superseded_submission_id,
        current_submission_id,
        count(*) filter (where change = 'added') as values_added,
        count(*) filter (where change = 'changed') as values_changed,
        count(*) filter (where change = 'removed') as values_removed,
        count(*) filter (where change = 'unchanged') as values_unchanged
    from changes
    group by all
),

final as (
    select
        counted.partner_code,
        counted.period,
        counted.superseded_submission_id,
        older.file_name as superseded_file,
        older.folder as superseded_folder,
        older.arrived_at as superseded_arrived_at,
        counted.current_submission_id,
        current.file_name as current_file,
        current.folder as current_folder,
        current.arrived_at as current_arrived_at,
        case when older.folder = current.folder then 'resubmission' else 'overlap' end as kind,
        case
            when current.overlap_rule = 'partner_files_first' and current.is_partner_file
                and not older.is_partner_file
                then 'partner_files_first: the partner''s own file wins over a consolidated one'
            else 'latest_arrival: the submission that arrived last wins'
        end as rule_applied,
        counted.values_added,
        counted.values_changed,
        counted.values_removed,
        counted.values_unchanged
    from counted
    inner join ranked as older
        on older.submission_id = counted.superseded_submission_id
        and older.partner_code = counted.partner_code
        and older.period = counted.period
    inner join ranked as current
        on current.submission_id = counted.current_submission_id
        and current.partner_code = counted.partner_code
        and current.period = counted.period
)

select * from final
