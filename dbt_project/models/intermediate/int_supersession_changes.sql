-- Key by key, how each replaced claim's values changed (macros/supersession_changes.sql), by
-- the claims that decide what is published.
{{ supersession_changes('int_submission_claims') }}
