select * from {{ source('registry', 'partner_indicators') }}
