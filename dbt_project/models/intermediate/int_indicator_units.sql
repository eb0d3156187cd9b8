-- The units an indicator's totals are built from: each
-- accepted value of a summed or point-in-time indicator, and for a ratio each unit (partner x
-- reporting unit x place x breakdown x period) with its numerator and denominator side by side;
-- is_paired says whether both parts were accepted there (only paired units are counted).
-- One home for the pairing rule: indicator_period_totals, indicator_breakdowns and
-- indicator_contributions all read it. A unit pairs values of one partner only: rebuilt for the
-- partners whose records changed (a table, so the three read it without pairing again).
{{ partner_incremental_config() }}

with changed as (
    {{ changed_partners() }}
),

indicator_values as (
    select
        indicator_values.*,
        changed.partner_inputs as inputs
    from {{ ref('indicator_values') }} as indicator_values
    inner join changed using (partner_key)
),

indicators as (
    select * from {{ ref('stg_registry__indicators') }}
),

plain_values as (
    select
        indicator_values.indicator_code,
        partner_code,
        reporting_unit,
        period,
        period_start,
        place_code,
        disaggregation,
        value,
        null::double as numerator_value,
        null::double as denominator_value,
        true as is_paired,
        partner_key,
        inputs as partner_inputs
    from indicator_values
    inner join indicators using (indicator_code)
    where indicators.aggregation <> 'ratio'
),

numerators as (
    select
        indicators.indicator_code as ratio_code,
        indicator_values.*
    from indicators
    inner join indicator_values on indicators.numerator_code = indicator_values.indicator_code
    where indicators.aggregation = 'ratio'
),

denominators as (
    select
        indicators.indicator_code as ratio_code,
        indicator_values.*
    from indicators
    inner join indicator_values on indicators.denominator_code = indicator_values.indicator_code
    where indicators.aggregation = 'ratio'
),

ratio_units as (
    -- A ratio's two parts side by side, unit by unit.
    select
        coalesce(numerators.ratio_code, denominators.ratio_code) as indicator_code,
        coalesce(numerators.partner_code, denominators.partner_code) as partner_code,
        coalesce(numerators.reporting_unit, denominators.reporting_unit) as reporting_unit,
        coalesce(numerators.period, denominators.period) as period,
        coalesce(numerators.period_start, denominators.period_start) as period_start,
        coalesce(numerators.place_code, denominators.place_code) as place_code,
        coalesce(numerators.disaggregation, denominators.disaggregation) as disaggregation,
        null::double as value,
        numerators.value as numerator_value,
        denominators.value as denominator_value,
        numerators.value is not null and denominators.value is not null as is_paired,
        coalesce(numerators.partner_key, denominators.partner_key) as partner_key,
        coalesce(numerators.inputs, denominators.inputs) as partner_inputs
    from numerators
    full outer join denominators
        on
            numerators.ratio_code = denominators.ratio_code
            and numerators.partner_code = denominators.partner_code
            and numerators.reporting_unit = denominators.reporting_unit
            and numerators.period = denominators.period
            and numerators.place_code = denominators.place_code
            and numerators.disaggregation = denominators.disaggregation
),

final as (
    select * from plain_values
    union all
    select * from ratio_units
)

select * from final
