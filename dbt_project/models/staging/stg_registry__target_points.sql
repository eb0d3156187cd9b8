with source as (
    select * from {{ source('registry', 'target_points') }}
),

renamed as (
    select
        indicator_code,
        place_code,
        point_kind,
        sequence,
        period,
        period_start,
        {{ period_index('period_start') }} as period_index,
        target_value,
        nullif(note, '') as note
    from source
)

select * from renamed
