-- What each submission claims: the slices in which it has at least one accepted value (or an
-- explicit withdrawal). A slice is partner x reporting unit x period, and - by the partner's
-- supersede_by grain - indicator (the default), place and breakdown. Quarantined rows, totals
-- and empty template rows claim nothing, so a file changes nothing outside the slices it
-- actually reports.
--
-- Within a slice the initiative's overlap_rule ranks the claims (precedence 1 = speaks):
-- latest_arrival, or partner_files_first (a partner's own file before a consolidated one, then
-- the latest). A claim is superseded by the best-ranked claim above it that covers it: one of
-- the same reporting unit, or of the partner as a whole (unit ''), which also covers, and is
-- covered by, every unit. With supersede_by: additive nothing is replaced except by an
-- explicit withdrawal of the same key.
with records as (
    select * from {{ ref('int_records_validated') }}
    where
        quarantine_reason is null
        and partner_code is not null
        and period is not null
),

initiative as (
    select * from {{ ref('stg_registry__initiative') }}
),

claims as (
    select
        partner_code,
        reporting_unit,
        period,
        slice_key,
        submission_id,
        any_value(supersede_by) as supersede_by,
        -- Every indicator the claim covers (a slice of supersede_by: period spans several).
        list_sort(list(distinct indicator_code)) as indicator_codes,
        any_value(folder) as folder,
        any_value(arrived_at) as arrived_at,
        any_value(modified_at) as modified_at,
        any_value(landed_at) as landed_at,
        any_value(file_name) as file_name,
        any_value(folder) = partner_code as is_partner_file,
        bool_or(is_withdrawal) as withdraws,
        count(*) filter (where not is_withdrawal) as values_claimed
    from records
    group by partner_code, reporting_unit, period, slice_key, submission_id
),

ranked as (
    select
        claims.*,
        initiative.overlap_rule,
        row_number() over (
            partition by claims.partner_code, claims.period, claims.slice_key
            order by
                case
                    when initiative.overlap_rule = 'partner_files_first' and is_partner_file
                        then 0
                    else 1
                end,
                arrived_at desc, modified_at desc, landed_at desc, file_name desc,
                submission_id desc
        ) as precedence
    from claims
    cross join initiative
),

covered as (
    select
        older.partner_code,
        older.reporting_unit,
        older.period,
        older.slice_key,
        older.submission_id,
        arg_min(newer.submission_id, newer.precedence) as superseded_by,
        arg_min(newer.reporting_unit, newer.precedence) as superseded_by_unit
    from ranked as older
    inner join ranked as newer
        on
            older.partner_code = newer.partner_code
            and older.period = newer.period
            and older.slice_key = newer.slice_key
            and older.precedence > newer.precedence
            and (
                older.reporting_unit = newer.reporting_unit
                or newer.reporting_unit = '' or older.reporting_unit = ''
            )
            and (older.supersede_by <> 'additive' or newer.withdraws)
    group by all
),

final as (
    select
        ranked.*,
        covered.superseded_by,
        covered.superseded_by_unit,
        covered.superseded_by is null as is_current
    from ranked
    left join covered
        using (partner_code, reporting_unit, period, slice_key, submission_id)
)

select * from final
