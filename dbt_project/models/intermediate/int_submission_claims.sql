-- What each submission claims, and what replaced it (macros/submission_claims.sql), among the
-- submissions not held for review (int_held_submissions): the claims that decide what is
-- published. With none held they are the proposed claims, not worked out twice.
with proposed as (
    select * from {{ ref('int_submission_claims_proposed') }}
    where not exists (select 1 from {{ ref('int_held_submissions') }})
),

without_held as (
    {{ submission_claims(exclude_held=true) }}
)

select * from proposed
union all
select * from without_held
