-- Key by key, how each replaced claim's values changed (macros/supersession_changes.sql), by
-- the claims that decide what is published. With none held they are the proposed changes,
-- not compared twice.
with proposed as (
    select * from {{ ref('int_supersession_changes_proposed') }}
    where not exists (select 1 from {{ ref('int_held_submissions') }})
),

without_held as (
    {{ supersession_changes('int_submission_claims', only_when_held=true) }}
)

select * from proposed
union all
select * from without_held
