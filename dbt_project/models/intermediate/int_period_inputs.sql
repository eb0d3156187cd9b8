-- Per period of the initiative's type, a hash of its units (each one's indicator, partner,
-- unit, place, breakdown and values) and of the definitions (registry and SQL): a period whose
-- hash is unchanged has the same units, added up by the same rules. The period-keyed
-- incremental models rebuild the periods whose hash they were not built from (changed_periods).
with units as (
    select * from {{ ref('int_indicator_units') }}
),

initiative as (
    select * from {{ ref('stg_registry__initiative') }}
)

select
    units.period_start,
    hash(
        bit_xor(hash(
            units.indicator_code, units.partner_code, units.reporting_unit, units.place_code,
            units.disaggregation, units.value, units.numerator_value,
            units.denominator_value, units.is_paired
        )),
        any_value(initiative.definitions_fingerprint)
    ) as period_inputs
from units
cross join initiative
where units.period_start is not null
group by units.period_start
