-- Per partner (records that name none: ''), a hash of the submissions its records come from and
-- of their build: a partner whose hash is unchanged has the same records, judged by the same
-- rules. The partner-keyed incremental models rebuild the partners whose hash they were not
-- built from (changed_partners); computed once a run, here, rather than by each of them.
select
    coalesce(partner_code, '') as partner_key,
    bit_xor(hash(submission_id || ':' || build_fingerprint)) as partner_inputs
from (
    select distinct
        partner_code,
        submission_id,
        build_fingerprint
    from {{ ref('int_records_validated') }}
)
group by all
