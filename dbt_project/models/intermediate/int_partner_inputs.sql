-- Per partner (records that name none: ''), a hash of the submissions its records come from and
-- of their build: a partner whose hash is unchanged has the same records, judged by the same
-- rules. The partner-keyed incremental models rebuild the partners whose hash they were not
-- built from (changed_partners); computed once a run, here, rather than by each of them.
-- A replacement held for review and then accepted changes its partner's hash too.
select
    coalesce(records.partner_code, '') as partner_key,
    bit_xor(hash(
        records.submission_id || ':' || records.build_fingerprint
        || case when accepted.submission_id is not null then ':accepted' else '' end
    )) as partner_inputs
from (
    select distinct
        partner_code,
        submission_id,
        build_fingerprint
    from {{ ref('int_records_validated') }}
) as records
left join {{ ref('stg_landing__accepted_submissions') }} as accepted using (submission_id)
group by all
