-- What each submission claims, and what would replace it, had every submission received its
-- say: what int_held_submissions judges a replacement by before it counts.
{{ submission_claims(exclude_held=false) }}
