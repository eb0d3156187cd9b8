-- Each data row's outcome, the unit partners count in: accepted when every value it carries
-- is accepted, quarantined when any is; not data when it is a total or reports no value (kept
-- and counted, not held against the partner). Blank and empty template rows are not data rows
-- at all (submissions.empty_rows).
{{ submission_incremental_config() }}

with outcomes as (
    select * from {{ ref('int_records_outcomes') }}
    {% if is_incremental() %}
    where submission_id in (select submission_id from ({{ changed_submissions() }}))
    {% endif %}
),

final as (
    select
        submission_id,
        sheet,
        row_number,
        any_value(partner_code) filter (where partner_code is not null) as partner_code,
        any_value(reporting_unit) filter (where reporting_unit is not null) as reporting_unit,
        min(period_start) as period_start,
        bool_or(outcome = 'quarantined') as any_quarantined,
        bool_and(is_not_data) as not_data,
        bool_and(extract_problem_kind = 'summary') as is_summary,
        any_value(build_fingerprint) as build_fingerprint
    from outcomes
    group by submission_id, sheet, row_number
)

select * from final
