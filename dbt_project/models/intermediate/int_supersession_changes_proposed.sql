-- Key by key, how each claim's values would change had every submission received its say
-- (int_submission_claims_proposed): what int_held_submissions judges.
{{ supersession_changes('int_submission_claims_proposed') }}
