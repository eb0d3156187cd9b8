with source as (
    select * from {{ source('landing', 'submissions') }}
),

initiative as (
    select * from {{ source('registry', 'initiative') }}
),

mappings as (
    select * from {{ source('registry', 'mappings') }}
),

renamed as (
    select
        submission_id,
        sha256,
        folder,
        file_name,
        inbox_path,
        received_path,
        size_bytes,
        -- When the pipeline first saw the file (murmuration.intake.arrivals), and the file's own
        -- modification time (the sender's clock: shown, and orders files first seen together).
        cast(arrived_at as timestamptz) as arrived_at,
        cast(coalesce(modified_at, arrived_at) as timestamptz) as modified_at,
        coalesce(arrival_source, 'file_time') as arrival_source,
        cast(landed_at as timestamptz) as landed_at,
        status as landing_status,
        message as landing_message,
        file_format,
        rows_read,
        mapping_name,
        sheet as data_sheet,
        header_row,
        coalesce(structure_rows, 0) as structure_rows,
        coalesce(other_sheet_rows, 0) as other_sheet_rows,
        coalesce(empty_rows, 0) as empty_rows,
        coalesce(data_rows, 0) as data_rows,
        coalesce(records, 0) as records,
        extract_problem,
        extraction_fingerprint,
        -- What the incremental models compare: the submission's records, the rules every
        -- submission shares, and its mapping's own (codes, combos, units, settings).
        coalesce(source.extraction_fingerprint, '-') || ':'
        || initiative.definitions_fingerprint || ':'
        || coalesce(mappings.definitions_fingerprint, '-')
        -- An arrival recorded afterwards (`murmuration arrivals set`) rebuilds the submission.
        || ':' || coalesce(arrived_at, '') || ':' || coalesce(arrival_source, '')
            as build_fingerprint,
        -- What stg_landing__records is built from: the submission's landed records and the
        -- project's SQL (a change to a mapping's codes or to the registry does not read them
        -- again).
        coalesce(source.extraction_fingerprint, '-') || ':' || initiative.sql_fingerprint
            as records_fingerprint,
        unused_columns,
        coalesce(unused_column_count, 0) as unused_column_count,
        missing_value_columns
    from source
    cross join initiative
    left join mappings using (mapping_name)
)

select * from renamed
