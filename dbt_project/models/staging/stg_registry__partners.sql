with source as (
    select * from {{ source('registry', 'partners') }}
),

renamed as (
    select
        partner_code,
        partner_name,
        cadence,
        due_days,
        cast(reports_from || '-01' as date) as reports_from,
        cast(reports_until || '-01' as date) as reports_until
    from source
)

select * from renamed
