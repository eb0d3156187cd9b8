with source as (
    select * from {{ source('landing', 'submissions') }}
),

initiative as (
    select * from {{ source('registry', 'initiative') }}
),

mappings as (
    select * from {{ source('registry', 'mappings') }}
),

read_by as (
    -- What every mapping that reads a file is built from (several when each reads a sheet).
    select
        source.submission_id,
        string_agg(mappings.definitions_fingerprint, ',' order by mappings.mapping_name)
            as definitions_fingerprint
    from source
    cross join unnest(source.mapping_names) as named (mapping_name)
    inner join mappings on named.mapping_name = mappings.mapping_name
    group by source.submission_id
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
        || coalesce(read_by.definitions_fingerprint, mappings.definitions_fingerprint, '-')
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
        missing_value_columns,
        coalesce(mapping_names, []) as mapping_names,
        mapping_note
    from source
    cross join initiative
    left join mappings using (mapping_name)
    left join read_by using (submission_id)
)

select * from renamed
