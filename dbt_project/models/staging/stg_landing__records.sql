with source as (
    select * from {{ source('landing', 'records') }}
),

renamed as (
    select
        submission_id || '/' || coalesce(sheet, '') || '/' || row_number || '/'
            || coalesce(column_name, '') as record_id,
        submission_id,
        mapping_name,
        sheet,
        row_number,
        column_name,
        partner_source,
        nullif(trim(partner_text), '') as partner_text,
        nullif(trim(unit_text), '') as unit_text,
        nullif(trim(period_text), '') as period_text,
        period_start,
        period_source,
        nullif(trim(place_text), '') as place_text,
        nullif(trim(indicator_text), '') as indicator_text,
        nullif(trim(value_text), '') as value_text,
        coalesce(is_withdrawal, false) as is_withdrawal,
        nullif(trim(combo_text), '') as combo_text,
        disaggregation_text,
        problem as extract_problem,
        problem_kind as extract_problem_kind,
        -- Totals and rows that report no value are kept and counted, but they are not data a
        -- partner got wrong: they do not count against its validity. (Blank and empty template
        -- rows yield no record at all: see stg_landing__submissions.empty_rows.)
        coalesce(problem_kind in ('summary', 'no_values'), false) as is_not_data,
        {{ normalise_text('partner_text') }} as partner_key,
        {{ normalise_text('unit_text') }} as unit_key,
        {{ normalise_text('place_text') }} as place_key,
        {{ normalise_text('indicator_text') }} as indicator_key,
        {{ normalise_text('combo_text') }} as combo_key,
        -- Plain numbers and numbers with thousands separators; anything else is not a number.
        case
            when regexp_full_match(trim(value_text), '-?[0-9]+(\.[0-9]+)?')
                then cast(trim(value_text) as double)
            when regexp_full_match(trim(value_text), '-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?')
                then cast(replace(trim(value_text), ',', '') as double)
        end as reported_number
    from source
)

select * from renamed
