-- Every received file: when it arrived, whether it could be read, and what became of its rows.
with submissions as (
    select * from {{ ref('stg_landing__submissions') }}
),

outcomes as (
    select * from {{ ref('int_records_outcomes') }}
),

row_outcomes as (
    select * from {{ ref('int_row_outcomes') }}
),

row_counts as (
    select
        submission_id,
        count(*) filter (where not any_quarantined) as rows_accepted,
        count(*) filter (where any_quarantined) as rows_quarantined,
        count(*) filter (where not_data) as rows_not_data
    from row_outcomes
    group by submission_id
),

value_counts as (
    select
        submission_id,
        count(*) filter (where outcome <> 'quarantined') as values_accepted,
        count(*) filter (where outcome = 'current') as values_current,
        count(*) filter (where outcome = 'superseded') as values_superseded,
        count(*) filter (where outcome = 'quarantined') as values_quarantined,
        count(*) filter (where outcome = 'withdrawn') as values_withdrawn,
        count(*) filter (where outcome = 'deduplicated') as values_deduplicated,
        count(*) filter (where outcome = 'held') as values_held,
        any_value(superseded_by) filter (where superseded_by is not null) as superseded_by,
        min(period) as first_period,
        max(period) as last_period,
        any_value(partner_code) filter (where partner_code is not null) as partner_code
    from outcomes
    group by submission_id
),

final as (
    select
        submissions.submission_id,
        coalesce(value_counts.partner_code, submissions.folder) as partner_code,
        submissions.folder,
        submissions.file_name,
        submissions.inbox_path,
        submissions.received_path,
        submissions.sha256,
        submissions.size_bytes,
        submissions.file_format,
        submissions.arrived_at,
        submissions.arrival_source,
        submissions.modified_at,
        submissions.landed_at,
        submissions.landing_status,
        coalesce(submissions.landing_message, submissions.extract_problem) as message,
        submissions.mapping_name,
        submissions.mapping_names,
        submissions.mapping_note,
        submissions.data_sheet,
        submissions.header_row,
        submissions.rows_read,
        submissions.structure_rows,
        submissions.other_sheet_rows,
        submissions.empty_rows,
        submissions.data_rows,
        submissions.records,
        coalesce(row_counts.rows_accepted, 0) as rows_accepted,
        coalesce(row_counts.rows_quarantined, 0) as rows_quarantined,
        coalesce(row_counts.rows_not_data, 0) as rows_not_data,
        coalesce(value_counts.values_accepted, 0) as values_accepted,
        coalesce(value_counts.values_current, 0) as values_current,
        coalesce(value_counts.values_superseded, 0) as values_superseded,
        coalesce(value_counts.values_quarantined, 0) as values_quarantined,
        coalesce(value_counts.values_withdrawn, 0) as values_withdrawn,
        coalesce(value_counts.values_deduplicated, 0) as values_deduplicated,
        coalesce(value_counts.values_held, 0) as values_held,
        held.reason as held_reason,
        value_counts.superseded_by,
        value_counts.first_period,
        value_counts.last_period,
        submissions.unused_columns,
        submissions.unused_column_count,
        submissions.missing_value_columns
    from submissions
    left join row_counts using (submission_id)
    left join value_counts using (submission_id)
    left join {{ ref('int_held_submissions') }} as held using (submission_id)
)

select * from final
