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
        cast(period || '-01' as date) as period_start,
        target_value,
        nullif(note, '') as note
    from source
)

select * from renamed
