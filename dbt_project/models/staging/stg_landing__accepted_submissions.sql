select * from {{ source('landing', 'accepted_submissions') }}
