-- Each partner's part of an indicator's total per period of the initiative's type, for every
-- place and the whole area ('all'): the mutually reinforcing activities made visible. A ratio's
-- part is the partner's own ratio over its paired units (parts of a ratio do not add up).
-- revised: a later file from the partner added, changed, removed or withdrew values counted
-- here (int_supersession_changes; for a ratio, changes to its numerator or denominator).
-- A partner's parts follow from its own values and the rules: rebuilt for the partners whose
-- records changed.
{{ partner_incremental_config() }}

with changed as (
    {{ changed_partners() }}
),

units as (
    select * from {{ ref('int_indicator_units') }}
    where is_paired and partner_code in (select partner_key from changed)
),

indicators as (
    select * from {{ ref('stg_registry__indicators') }}
),

changes as (
    select * from {{ ref('int_supersession_changes') }}
    where change <> 'unchanged' and partner_code in (select partner_key from changed)
),

by_place_and_area as (
    {{ with_places_above('units') }}
),

aggregated as (
    select
        by_place_and_area.indicator_code,
        partner_code,
        period,
        period_start,
        total_place as place_code,
        {{ aggregated_value() }} as value,
        sum(numerator_value) as numerator_value,
        sum(denominator_value) as denominator_value,
        count(distinct reporting_unit) as reporting_units,
        count(*) as values_counted
    from by_place_and_area
    inner join indicators using (indicator_code)
    group by all
),

revisions as (
    select
        indicators.indicator_code,
        changes.partner_code,
        changes.period,
        place.ancestor_code as place_code,
        count(*) as values_revised
    from changes
    inner join indicators
        on changes.indicator_code in (
            indicators.indicator_code, indicators.numerator_code,
            indicators.denominator_code
        )
    -- The place's own total, those of the places above it and the whole area's.
    inner join {{ ref('stg_registry__place_ancestors') }} as place
        on changes.place_code = place.place_code
    group by all
),

final as (
    select
        aggregated.*,
        coalesce(revisions.values_revised, 0) as values_revised
    from aggregated
    left join revisions using (indicator_code, partner_code, period, place_code)
)

select
    final.*,
    final.partner_code as partner_key,
    changed.partner_inputs
from final
inner join changed on final.partner_code = changed.partner_key
