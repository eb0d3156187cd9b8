-- Stored, not a view: read once from the landed Parquet files, then used by several models;
-- incremental by submission (only new or re-mapped submissions are read again: a change to
-- the registry or to a mapping's codes is resolved downstream, from these same rows).
{{ landed_incremental_config() }}

with changed as (
    {{ changed_landings() }}  -- on a first or full build: every submission
),

source as (
    select records.*
    from {{ source('landing', 'records') }} as records
    inner join changed using (submission_id)
),

texts as (
    -- Each distinct text once: normalising it (accents, case, spacing) per record cost more
    -- than the rest of staging.
    select distinct text from (
        select partner_text as text from source
        union all
        select unit_text from source
        union all
        select report_text from source
        union all
        select dedupe_text from source
        union all
        select place_text from source
        union all
        select indicator_text from source
        union all
        select combo_text from source
    ) as all_texts
    where text is not null
),

keys as (
    select
        text,
        {{ normalise_text('text') }} as text_key
    from texts
),

renamed as (
    select
        submission_id || '/' || coalesce(sheet, '') || '/' || row_number || '/'
        || coalesce(column_name, '') as record_id,
        source.submission_id,
        source.mapping_name,
        source.sheet,
        source.row_number,
        source.column_name,
        source.partner_source,
        nullif(trim(source.partner_text), '') as partner_text,
        nullif(trim(source.unit_text), '') as unit_text,
        -- The columns that make rows different reports (a project, a donor) and the site a row
        -- is about (dedupe_by), as written and as compared.
        nullif(trim(source.report_text), '') as report_text,
        coalesce(report_keys.text_key, '') as report_key,
        nullif(trim(source.dedupe_text), '') as dedupe_text,
        coalesce(dedupe_keys.text_key, '') as dedupe_key,
        nullif(trim(source.period_text), '') as period_text,
        source.period_start,
        source.period_source,
        nullif(trim(source.place_text), '') as place_text,
        nullif(trim(source.indicator_text), '') as indicator_text,
        nullif(trim(source.value_text), '') as value_text,
        coalesce(source.is_withdrawal, false) as is_withdrawal,
        nullif(trim(source.combo_text), '') as combo_text,
        source.disaggregation_text,
        source.problem as extract_problem,
        source.problem_kind as extract_problem_kind,
        -- Totals and rows that report no value are kept and counted, but they are not data a
        -- partner got wrong: they do not count against its validity. (Blank and empty template
        -- rows yield no record at all: see stg_landing__submissions.empty_rows.)
        coalesce(source.problem_kind in ('summary', 'no_values'), false) as is_not_data,
        coalesce(partner_keys.text_key, '') as partner_key,
        coalesce(unit_keys.text_key, '') as unit_key,
        coalesce(place_keys.text_key, '') as place_key,
        coalesce(indicator_keys.text_key, '') as indicator_key,
        coalesce(combo_keys.text_key, '') as combo_key,
        -- Plain numbers and numbers with thousands separators; anything else is not a number.
        case
            when regexp_full_match(trim(source.value_text), '-?[0-9]+(\.[0-9]+)?')
                then cast(trim(source.value_text) as double)
            when regexp_full_match(trim(source.value_text), '-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?')
                then cast(replace(trim(source.value_text), ',', '') as double)
        end as reported_number
    from source
    left join keys as partner_keys on source.partner_text = partner_keys.text
    left join keys as unit_keys on source.unit_text = unit_keys.text
    left join keys as report_keys on source.report_text = report_keys.text
    left join keys as dedupe_keys on source.dedupe_text = dedupe_keys.text
    left join keys as place_keys on source.place_text = place_keys.text
    left join keys as indicator_keys on source.indicator_text = indicator_keys.text
    left join keys as combo_keys on source.combo_text = combo_keys.text
)

select * from renamed
