{#- What each submission claims, and which newer claim replaces it (the one home of the rule;
    int_submission_claims_proposed runs it on every submission, int_submission_claims on those
    not held for review).

    A claim is a slice in which the submission has at least one accepted value (or an explicit
    withdrawal): partner x reporting unit x period, and - by its grain (the mapping's complete
    returns, else the partner's or the initiative's supersede_by) - indicator, place, or the
    key itself (value, the default: create-and-update). Quarantined rows, totals and empty
    template rows claim nothing, so a file changes nothing outside the slices it reports.

    The initiative's overlap_rule ranks a partner's submissions for a period (precedence 1 =
    speaks): latest_arrival, or partner_files_first (a partner's own file before a consolidated
    one, then the latest). A newer claim of the same reporting unit (or of the partner as a
    whole, unless one is a report of its own: unit_covers) replaces an older one where their
    slices meet: all of it when its slice holds the older one (a coarser or the same grain:
    superseded_by), a part when it lies inside it (a finer grain, e.g. a one-row correction
    after a complete return: covered_in_part_by, the values of that part only). Additive files
    are replaced only by an explicit withdrawal of the same key. -#}
{% macro submission_claims(exclude_held) -%}
with records as (
    select * from {{ ref('int_records_validated') }}
    where
        quarantine_reason is null
        and partner_code is not null
        and period is not null
        {% if exclude_held -%}
        -- Worked out again only when a submission is held (else: the proposed claims).
        and exists (select 1 from {{ ref('int_held_submissions') }})
        and submission_id not in (select submission_id from {{ ref('int_held_submissions') }})
        {%- endif %}
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
        {{ grain_depth('any_value(supersede_by)') }} as depth,
        bool_or(report_key <> '') as distinct_report,
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
    -- One order of the partner's submissions for the period, whatever their grains.
    select
        claims.*,
        initiative.overlap_rule,
        dense_rank() over (
            partition by claims.partner_code, claims.period
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

depths_present as (
    -- The grains a partner's claims for a period have: claims meet at the coarser of theirs.
    select
        partner_code,
        period,
        list(distinct depth) as depths
    from ranked
    group by partner_code, period
),

claim_keys as (
    -- Each claim's key at every grain present up to its own (at its own grain: its slice).
    select
        ranked.*,
        meet.depth as key_depth,
        case meet.depth
            when 0 then ''
            when 1 then split_part(ranked.slice_key, '|', 1)
            when 2
                then split_part(ranked.slice_key, '|', 1) || '|'
                || split_part(ranked.slice_key, '|', 2)
            else ranked.slice_key
        end as key_at
    from ranked
    inner join depths_present using (partner_code, period)
    cross join unnest(depths_present.depths) as meet (depth)
    where meet.depth <= ranked.depth
),

covers as (
    -- Every newer claim whose slice meets an older one's, where they meet: at the coarser of
    -- their grains.
    select
        older.partner_code,
        older.reporting_unit,
        older.period,
        older.slice_key,
        older.submission_id,
        newer.submission_id as newer_submission_id,
        newer.reporting_unit as newer_unit,
        newer.precedence as newer_precedence,
        newer.depth as newer_depth,
        newer.slice_key as newer_slice_key,
        newer.depth <= older.depth as covers_all
    from claim_keys as older
    inner join claim_keys as newer
        on
            older.partner_code = newer.partner_code
            and older.period = newer.period
            and older.key_depth = newer.key_depth
            and older.key_at = newer.key_at
            and older.precedence > newer.precedence
    where
        older.key_depth = least(older.depth, newer.depth)
        and {{ unit_covers('older', 'newer') }}
        and (older.supersede_by <> 'additive' or (newer.withdraws and newer.depth = 3))
),

covered as (
    select
        partner_code,
        reporting_unit,
        period,
        slice_key,
        submission_id,
        arg_min(newer_submission_id, newer_precedence) filter (where covers_all)
            as superseded_by,
        arg_min(newer_unit, newer_precedence) filter (where covers_all) as superseded_by_unit,
        min(newer_precedence) filter (where covers_all) as superseded_by_precedence
    from covers
    group by partner_code, reporting_unit, period, slice_key, submission_id
),

in_part as (
    -- Finer newer claims inside an older one that speak after whatever replaced all of it.
    select
        covers.partner_code,
        covers.reporting_unit,
        covers.period,
        covers.slice_key,
        covers.submission_id,
        list(struct_pack(
            submission_id := covers.newer_submission_id,
            reporting_unit := covers.newer_unit,
            precedence := covers.newer_precedence,
            depth := covers.newer_depth,
            slice_key := covers.newer_slice_key
        ) order by covers.newer_precedence) as covered_in_part_by
    from covers
    left join covered using (partner_code, reporting_unit, period, slice_key, submission_id)
    where
        not covers.covers_all
        and covers.newer_precedence < coalesce(covered.superseded_by_precedence, 1e9)
    group by all
),

final as (
    select
        ranked.*,
        covered.superseded_by,
        covered.superseded_by_unit,
        covered.superseded_by is null as is_current,
        coalesce(in_part.covered_in_part_by, []) as covered_in_part_by
    from ranked
    left join covered
        using (partner_code, reporting_unit, period, slice_key, submission_id)
    left join in_part
        using (partner_code, reporting_unit, period, slice_key, submission_id)
)

select * from final
{%- endmacro %}
