-- Each indicator's units rolled up per period of the initiative's type (month or week), for
-- every place at every level of the hierarchy and the whole area, by the indicator's rule
-- across places (sum, mean, median, min, max, count; a ratio divides the sums of its paired
-- parts there): what indicator_period_totals builds its totals from (a summed indicator's
-- quarter or year adds up its months' sums). Only the units both parts of a ratio were
-- accepted for are counted; the others are counted in parts_unpaired.
-- A period's sums follow from its units alone: rebuilt for the periods whose units changed
-- (period_inputs, a hash of the period's units and of the definitions), so one new file costs
-- the periods it reports, not the history.
{{ period_incremental_config() }}

with changed as (
    {{ changed_periods() }}
),

units as (
    select
        units.*,
        indicators.place_aggregation
    from {{ ref('int_indicator_units') }} as units
    inner join changed using (period_start)
    inner join {{ ref('stg_registry__indicators') }} as indicators using (indicator_code)
),

by_place_and_area as (
    {{ with_places_above('units') }}
),

final as (
    select
        indicator_code,
        period,
        period_start,
        total_place as place_code,
        {{ unit_sums() }}
    from by_place_and_area
    group by indicator_code, period, period_start, total_place
)

select
    final.*,
    changed.period_inputs
from final
inner join changed using (period_start)
