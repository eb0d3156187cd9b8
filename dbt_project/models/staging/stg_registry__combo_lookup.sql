select * from {{ source('registry', 'combo_lookup') }}
