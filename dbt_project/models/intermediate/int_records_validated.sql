-- Every record judged against the registry: accepted, or quarantined with the first reason a
-- partner can act on. Reasons are checked in the order below (file-level first).
{{ submission_incremental_config() }}

with records as (
    select * from {{ ref('int_records_resolved') }}
    {% if is_incremental() %}
    where submission_id in (select submission_id from ({{ changed_submissions() }}))
    {% endif %}
),

indicators as (
    select * from {{ ref('stg_registry__indicators') }}
),

indicator_dimensions as (
    select * from {{ ref('stg_registry__indicator_dimensions') }}
),

places as (
    -- The places a reason names as known (the first ten of a long list, and how many more).
    select
        array_to_string(list(place_name order by display_order)[1:10], ', ')
        || case when count(*) > 10 then ' and ' || (count(*) - 10) || ' more' else '' end
            as known_places
    from {{ ref('stg_registry__places') }}
),

places_above as (
    select * from {{ ref('stg_registry__place_ancestors') }}
    where distance > 0 and ancestor_code <> place_code
),

mappings as (
    select * from {{ ref('stg_registry__mappings') }}
),

partners as (
    select * from {{ ref('stg_registry__partners') }}
),

settings as (
    -- How much of a partner's cell a reason quotes (limits.cell_chars_in_messages).
    select cell_chars_in_messages from {{ ref('stg_registry__initiative') }}
),

known_units as (
    select partner_code, string_agg(distinct unit_name, ', ' order by unit_name) as known_units
    from {{ ref('stg_registry__reporting_units') }}
    group by partner_code
),

disaggregation_problems as (
    -- The first breakdown problem of each record: unknown category, or not a breakdown of
    -- this indicator.
    select
        records.record_id,
        min_by(
            case
                when part.dimension_code is null then null
                when part.category_code is null
                    then '''' || {{ shown_cell('part.category_text') }} || ''' is not a known '
                        || coalesce(part.dimension_name, part.dimension_code)
                        || ' (known: ' || coalesce(part.known_categories, 'none') || ')'
                when indicator_dimensions.dimension_code is null
                    then coalesce(part.dimension_name, part.dimension_code)
                        || ' is not a breakdown of ' || indicators.short_name
                        || ' (given as ''' || {{ shown_cell('part.category_text') }} || ''')'
            end,
            part.dimension_code
        ) filter (where part.category_code is null
            or indicator_dimensions.dimension_code is null) as problem
    from records
    cross join settings
    cross join unnest(records.disaggregation_parts) as parts(part)
    left join indicators using (indicator_code)
    left join indicator_dimensions
        on indicator_dimensions.indicator_code = records.indicator_code
        and indicator_dimensions.dimension_code = part.dimension_code
    group by records.record_id
),

judged as (
    select
        records.*,
        indicators.short_name as indicator_name,
        indicators.unit,
        indicators.valid_min,
        indicators.valid_max,
        mappings.duplicate_keys,
        coalesce(
            records.extract_problem,
            case
                when records.partner_source = 'folder' and records.partner_code is null
                    then 'inbox folder ''' || {{ shown_cell('records.folder') }}
                        || ''' is not a partner code'
                when records.partner_text is null and records.partner_source = 'column'
                    then 'the organisation is empty'
                when records.partner_code is null
                    then 'organisation ''' || {{ shown_cell('records.partner_text') }}
                        || ''' is not a known partner '
                        || 'name; correct it, or ask the backbone to add it as an alias'
                when records.folder_partner_code is not null
                    and records.partner_code <> records.folder_partner_code
                    then 'organisation ''' || {{ shown_cell('records.partner_text') }}
                        || ''' is partner '
                        || records.partner_code || ', but the file came from the inbox folder of '
                        || records.folder_partner_code
                when records.reporting_unit is null
                    then '''' || {{ shown_cell('records.unit_text') }}
                        || ''' is not a reporting unit of '
                        || partners.partner_name || ' (known: ' || known_units.known_units || ')'
            end,
            case
                when records.period_text is null then 'the period is empty'
                when records.period_start is null
                    then 'period ''' || {{ shown_cell('records.period_text') }}
                        || ''' is not in a recognised format '
                        || '(this mapping reads ' || mappings.period_formats || ')'
                when records.period_start > cast(records.arrived_at as date)
                    then 'period ' || records.period || ' had not started when the file arrived ('
                        || strftime(records.arrived_at, '%Y-%m-%d') || ')'
                when not {{ period_is_plausible('records.period_start', 'records.arrived_at') }}
                    then 'period ' || records.period || ' is before '
                        || strftime({{ earliest_period() }}, '%Y-%m')
                        || ', the earliest this initiative takes: check the year'
            end,
            case
                when records.indicator_text is null then 'the indicator is empty'
                when records.indicator_code is null
                    then '''' || {{ shown_cell('records.indicator_text') }}
                        || ''' is not a known indicator name '
                        || 'or alias; correct it, or ask the backbone to add it as an alias '
                        || '(mapping ' || records.mapping_name || ')'
                when indicators.aggregation = 'ratio'
                    then indicators.short_name || ' is computed from its numerator and '
                        || 'denominator; report those instead'
            end,
            case
                when indicators.by_place and records.place_text is null then 'the place is empty'
                when records.place_text is not null and records.place_code is null
                    then '''' || {{ shown_cell('records.place_text') }}
                        || ''' is not a known place (known: '
                        || places.known_places || ')'
                when not indicators.by_place
                    and coalesce(records.place_code, {{ whole_area() }}) <> {{ whole_area() }}
                    then indicators.short_name || ' is not reported by place (given '''
                        || {{ shown_cell('records.place_text') }} || ''')'
            end,
            case
                when records.combo_text is not null and not records.combo_resolved
                    then 'category option combo ''' || {{ shown_cell('records.combo_text') }}
                        || ''' is not listed '
                        || 'in the combos of mapping ' || records.mapping_name
                when records.repeated_dimensions > 0
                    then 'a breakdown is given twice for this value'
            end,
            disaggregation_problems.problem,
            case
                when records.is_withdrawal then null
                when records.value_text is null
                    then 'the value is empty (write 0 if the count was zero)'
                when records.reported_number is null
                    then 'value ''' || {{ shown_cell('records.value_text') }} || ''' is not a number'
            end,
            case
                when records.value < indicators.valid_min or records.value > indicators.valid_max
                    then 'value ' || {{ format_number('records.value') }} || ' ' || indicators.unit
                        || case when records.unit_factor <> 1
                            then ' (' || {{ shown_cell('records.value_text') }} || ' '
                                || records.partner_unit || ')'
                            else '' end
                        || ' is outside the valid range for ' || indicators.short_name || ' ('
                        || coalesce({{ format_number('indicators.valid_min') }}, 'no minimum')
                        || ' to '
                        || coalesce({{ format_number('indicators.valid_max') }}, 'no maximum')
                        || ')'
            end
        ) as problem
    from records
    left join indicators using (indicator_code)
    left join mappings using (mapping_name)
    left join disaggregation_problems using (record_id)
    left join partners using (partner_code)
    left join known_units using (partner_code)
    cross join places
    cross join settings
),

candidate_groups as (
    -- Files (and partner, unit, indicator, period) with a value at a place that has places
    -- below it (a region, the whole area): the only ones that can give their own totals. Read
    -- from the records, not judged again: a flat list of places has only the whole area, and
    -- most files none of it.
    select distinct
        submission_id,
        partner_code,
        reporting_unit,
        indicator_code,
        period
    from records
    where place_code in (select places_above.ancestor_code from places_above)
),

group_values as (
    -- The accepted values of those files' groups.
    select judged.*
    from judged
    semi join candidate_groups
        on
            judged.submission_id = candidate_groups.submission_id
            and judged.partner_code = candidate_groups.partner_code
            and judged.reporting_unit is not distinct from candidate_groups.reporting_unit
            and judged.indicator_code = candidate_groups.indicator_code
            and judged.period = candidate_groups.period
    where judged.problem is null
),

levels_below as (
    -- A file that gives values for places and also for a place above them (a region's or the
    -- whole country's row beside its provinces) gives the higher row as a total of the lower
    -- ones: per file, partner, unit, indicator and period, the places with accepted values
    -- below them. Murmuration rolls the lower values up itself, by the indicator's rule.
    select distinct
        lower_value.submission_id,
        lower_value.partner_code,
        lower_value.reporting_unit,
        lower_value.indicator_code,
        lower_value.period,
        places_above.ancestor_code as place_code
    from group_values as lower_value
    inner join places_above on lower_value.place_code = places_above.place_code
),

level_total_records as (
    select
        judged.record_id,
        judged.submission_id,
        judged.partner_code,
        judged.reporting_unit,
        judged.indicator_code,
        judged.period,
        judged.place_code,
        judged.disaggregation,
        judged.value
    from group_values as judged
    semi join levels_below
        on
            judged.submission_id = levels_below.submission_id
            and judged.partner_code = levels_below.partner_code
            and judged.reporting_unit is not distinct from levels_below.reporting_unit
            and judged.indicator_code = levels_below.indicator_code
            and judged.period = levels_below.period
            and judged.place_code = levels_below.place_code
),

rolled_up as (
    -- What the file's lowest values (those that are not totals themselves) roll up to at each
    -- place it gives a total for, in the same breakdown: the reason compares it with the row.
    select
        totals.record_id,
        count(distinct lowest.place_code) as places_below,
        {{ place_aggregate('lowest.value', 'indicators.place_aggregation') }} as value,
        any_value(indicators.place_aggregation) as place_aggregation
    from level_total_records as totals
    inner join places_above on totals.place_code = places_above.ancestor_code
    inner join group_values as lowest
        on
            places_above.place_code = lowest.place_code
            and totals.submission_id = lowest.submission_id
            and totals.partner_code = lowest.partner_code
            and totals.reporting_unit is not distinct from lowest.reporting_unit
            and totals.indicator_code = lowest.indicator_code
            and totals.period = lowest.period
            and totals.disaggregation = lowest.disaggregation
    inner join indicators on lowest.indicator_code = indicators.indicator_code
    where lowest.record_id not in (select record_id from level_total_records)
    group by totals.record_id
),

level_totals as (
    select
        totals.record_id,
        'a total of this file''s values for the places below it ('
        || coalesce(
            rolled_up.places_below || ' places, '
            || case rolled_up.place_aggregation
                when 'sum' then 'adding up to '
                when 'count' then 'counting '
                else 'their ' || rolled_up.place_aggregation || ' '
            end || {{ format_number('rolled_up.value') }} || '; this row says '
            || {{ format_number('totals.value') }},
            'none with the same breakdown'
        ) || '): Murmuration rolls them up itself, so the row is not counted again'
            as level_total_reason
    from level_total_records as totals
    left join rolled_up using (record_id)
),

repeated_keys as (
    -- The same key twice in one file (at one site, when the mapping names the columns of a
    -- site: dedupe_by): the first row counts, later ones are quarantined, unless the mapping
    -- says how such rows combine (duplicate_keys: sum, max, first - int_records_outcomes). The
    -- keys given more than once (accepted and quarantined values apart), each with its first
    -- row in the file's order: a grouping, not a window over every judged record, which is
    -- the slowest step of a full build.
    select
        submission_id,
        indicator_code,
        partner_code,
        reporting_unit,
        period,
        place_code,
        disaggregation,
        dedupe_key,
        problem is null as accepted,
        arg_min(record_id, (sheet, row_number, column_name)) as first_record_id,
        arg_min(row_number, (sheet, row_number, column_name)) as first_row
    from judged
    group by all
    having count(*) > 1
),

final as (
    select
        judged.* exclude (problem, duplicate_keys, is_not_data, extract_problem_kind, dedupe_text),
        judged.is_not_data or level_totals.record_id is not null as is_not_data,
        coalesce(
            judged.extract_problem_kind,
            case when level_totals.record_id is not null then 'summary' end
        ) as extract_problem_kind,
        coalesce(
            judged.problem,
            level_totals.level_total_reason,
            case when repeated_keys.first_record_id <> judged.record_id
                and judged.duplicate_keys = 'quarantine'
                then 'the same indicator, place, period and breakdown is already reported in row '
                    || repeated_keys.first_row || ' of this file'
                    || case when judged.dedupe_key <> ''
                        then ' for the same site (''' || {{ shown_cell('judged.dedupe_text') }}
                            || ''')'
                        else '' end
            end
        ) as quarantine_reason
    from judged
    left join repeated_keys
        on
            judged.submission_id = repeated_keys.submission_id
            and judged.indicator_code is not distinct from repeated_keys.indicator_code
            and judged.partner_code is not distinct from repeated_keys.partner_code
            and judged.reporting_unit is not distinct from repeated_keys.reporting_unit
            and judged.period is not distinct from repeated_keys.period
            and judged.place_code is not distinct from repeated_keys.place_code
            and judged.disaggregation is not distinct from repeated_keys.disaggregation
            and judged.dedupe_key is not distinct from repeated_keys.dedupe_key
            and (judged.problem is null) = repeated_keys.accepted
    left join level_totals on judged.record_id = level_totals.record_id
    cross join settings
)

select * from final
