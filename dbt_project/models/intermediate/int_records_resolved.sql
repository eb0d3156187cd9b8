-- Each record with the partner's text resolved to registry codes, its value converted to the
-- indicator's unit, and its period as YYYY-MM. Nothing is judged here; see int_records_validated.
{{ submission_incremental_config() }}

with records as (
    select * from {{ ref('stg_landing__records') }}
    {% if is_incremental() %}
    where submission_id in (select submission_id from ({{ changed_submissions() }}))
    {% endif %}
),

submissions as (
    select * from {{ ref('stg_landing__submissions') }}
),

partners as (
    select * from {{ ref('stg_registry__partners') }}
),

unit_factors as (
    select * from {{ ref('stg_registry__unit_factors') }}
),

disaggregations as (
    select * from {{ ref('int_record_disaggregations') }}
),

reporting_units as (
    select * from {{ ref('stg_registry__reporting_units') }}
),

disaggregation_summary as (
    -- Per distinct way of giving the breakdown (joined to each record below).
    select
        mapping_name,
        disaggregation_text,
        coalesce(combo_text, '') as combo_given,
        -- Unresolved categories stay visible in the key as ?text (such values are quarantined).
        string_agg(
            dimension_code || '=' || coalesce(category_code, '?' || category_text), ';'
            order by dimension_code
        ) as disaggregation,
        list(
            struct_pack(
                dimension_code, dimension_name, category_text, category_code,
                known_categories, given_by
            ) order by dimension_code
        ) as parts,
        count(*) - count(distinct dimension_code) as repeated_dimensions,
        bool_or(given_by like 'combo %') as combo_resolved
    from disaggregations
    group by mapping_name, disaggregation_text, combo_given
),

resolved as (
    select
        records.record_id,
        records.submission_id,
        submissions.build_fingerprint,
        records.mapping_name,
        records.sheet,
        records.row_number,
        records.column_name,
        records.extract_problem,
        records.extract_problem_kind,
        records.is_not_data,
        submissions.folder,
        submissions.file_name,
        submissions.arrived_at,
        submissions.modified_at,
        submissions.landed_at,
        records.partner_source,
        records.partner_text,
        records.unit_text,
        records.unit_key,
        records.report_key,
        records.dedupe_text,
        records.dedupe_key,
        case
            when records.partner_source = 'folder' then folder_partner.partner_code
            else {{ resolved_code('partner') }}
        end as partner_code,
        folder_partner.partner_code as folder_partner_code,
        records.period_text,
        records.period_source,
        {{ period_start_of('records.period_start') }} as period_start,
        {{ period_key('records.period_start') }} as period,
        records.place_text,
        -- No place given: the whole area; judged against the indicator later.
        coalesce(
            {{ resolved_code('place') }},
            case when records.place_text is null then {{ whole_area() }} end
        ) as place_code,
        records.indicator_text,
        {{ resolved_code('indicator') }} as indicator_code,
        records.combo_text,
        records.value_text,
        records.is_withdrawal,
        records.reported_number,
        coalesce(unit_factors.factor, 1.0) as unit_factor,
        unit_factors.partner_unit,
        records.reported_number * coalesce(unit_factors.factor, 1.0) as value,
        coalesce(disaggregation_summary.disaggregation, 'total') as disaggregation,
        coalesce(disaggregation_summary.parts, []) as disaggregation_parts,
        coalesce(disaggregation_summary.repeated_dimensions, 0) as repeated_dimensions,
        coalesce(disaggregation_summary.combo_resolved, false) as combo_resolved
    from records
    left join submissions using (submission_id)
    left join partners as folder_partner on submissions.folder = folder_partner.partner_code
    {{ join_code('partner', 'records.partner_key') }}
    {{ join_code('place', 'records.place_key') }}
    {{ join_code('indicator', 'records.indicator_key') }}
    left join disaggregation_summary
        on
            disaggregation_summary.mapping_name = records.mapping_name
            and disaggregation_summary.disaggregation_text = records.disaggregation_text
            and disaggregation_summary.combo_given = coalesce(records.combo_text, '')
            and records.extract_problem is null
    left join unit_factors
        on
            unit_factors.mapping_name = records.mapping_name
            and unit_factors.indicator_code = {{ resolved_code('indicator') }}
),

with_units as (
    -- The reporting unit: a unit the partner declares (by code, name or alias), or, for a
    -- partner that declares none, the text itself; '' is the partner as a whole.
    select
        resolved.*,
        -- What a submission replaces: its mapping's complete returns, else the partner's (or
        -- the initiative's) rule.
        coalesce(mappings.supersede_by, partners.supersede_by) as supersede_by,
        -- A report of its own (distinct_reports_by: a project, a donor, a lead organisation)
        -- is part of the unit: its values add up with the others' and are replaced only by
        -- the same report's.
        case
            when
                resolved.unit_text is not null and partners.declares_units
                and reporting_units.unit_code is null then null
            else concat_ws(
                ' / ',
                nullif(case
                    when resolved.unit_text is null then ''
                    when partners.declares_units then reporting_units.unit_code
                    else resolved.unit_key
                end, ''),
                nullif(resolved.report_key, '')
            )
        end as reporting_unit,
        -- The slice a value belongs to, at that grain (see int_submission_claims): what a
        -- later submission of the same unit replaces.
        {{ slice_key_at(grain_depth('coalesce(mappings.supersede_by, partners.supersede_by)'),
                        'resolved') }} as slice_key
    from resolved
    left join partners using (partner_code)
    left join {{ ref('stg_registry__mappings') }} as mappings using (mapping_name)
    left join reporting_units
        on
            resolved.partner_code = reporting_units.partner_code
            and resolved.unit_key = reporting_units.text_key
)

select * from with_units
