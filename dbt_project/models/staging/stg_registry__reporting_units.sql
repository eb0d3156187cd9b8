select * from {{ source('registry', 'reporting_units') }}
