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
        nullif(trim(period_text), '') as period_text,
        period_start,
        nullif(trim(place_text), '') as place_text,
        nullif(trim(indicator_text), '') as indicator_text,
        nullif(trim(value_text), '') as value_text,
        nullif(trim(combo_text), '') as combo_text,
        disaggregation_text,
        problem as extract_problem,
        problem_kind as extract_problem_kind,
        -- Blank rows, totals and empty template rows are kept and counted, but they are not data
        -- a partner got wrong: they do not count against its validity.
        coalesce(problem_kind in ('blank', 'summary', 'no_values'), false) as is_not_data,
        {{ normalise_text('partner_text') }} as partner_key,
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
