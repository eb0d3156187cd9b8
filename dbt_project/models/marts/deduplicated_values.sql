-- Values not counted because another row of the same site and key counts instead (a mapping's
-- dedupe_by with duplicate_keys max or first: activities at one site reach the same people),
-- with the row that counts: shown to the partner, never an error.
with dropped as (
    select * from {{ ref('int_records_outcomes') }}
    where outcome = 'deduplicated'
),

counted as (
    select * from {{ ref('int_records_outcomes') }}
    where record_id in (select dropped.deduplicated_by from dropped)
),

sites as (
    -- The site as the file wrote it (only its compared form travels with the judged records).
    select
        record_id,
        dedupe_text
    from {{ ref('int_records_resolved') }}
    where record_id in (select dropped.record_id from dropped)
),

final as (
    select
        dropped.record_id,
        dropped.submission_id,
        dropped.partner_code,
        dropped.reporting_unit,
        dropped.indicator_code,
        dropped.period,
        dropped.place_code,
        dropped.disaggregation,
        sites.dedupe_text as site,
        dropped.file_name,
        dropped.sheet,
        dropped.row_number,
        dropped.column_name,
        dropped.value,
        kept.record_id as counted_record_id,
        kept.file_name as counted_file_name,
        kept.row_number as counted_row_number,
        kept.value as counted_value
    from dropped
    inner join counted as kept on dropped.deduplicated_by = kept.record_id
    left join sites on dropped.record_id = sites.record_id
)

select * from final
