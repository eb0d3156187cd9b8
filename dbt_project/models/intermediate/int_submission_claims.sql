-- What each submission claims, and what replaced it (macros/submission_claims.sql), among the
-- submissions not held for review (int_held_submissions): the claims that decide what is
-- published.
{{ submission_claims(exclude_held=true) }}
