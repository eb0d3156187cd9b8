-- Each indicator's totals per period of the initiative's type, for every place and the whole
-- area ('all'), split by each breakdown dimension the registry allows for it (sex, age band...).
-- A value reported without that dimension falls in the category null ("not broken down by
-- it"), so for a summed indicator the categories of one dimension add up to the total.
-- Ratios pair numerator and denominator inside each category (int_indicator_units).
-- contributors: the partner x reporting unit series behind a cell (small-cell suppression
-- hides cells built from fewer than the initiative's minimum for some roles).
-- A period's cells follow from its units alone: rebuilt for the periods whose units changed.
{{ period_incremental_config() }}

with changed as (
    {{ changed_periods() }}
),

units as (
    select units.*
    from {{ ref('int_indicator_units') }} as units
    inner join changed using (period_start)
    where units.is_paired
),

indicators as (
    select * from {{ ref('stg_registry__indicators') }}
),

dimensions as (
    select * from {{ ref('stg_registry__indicator_dimensions') }}
),

categories as (
    select * from {{ ref('stg_registry__categories') }}
),

split as (
    select
        units.*,
        dimensions.dimension_code,
        categories.category_code
    from units
    inner join dimensions using (indicator_code)
    left join categories
        on
            dimensions.dimension_code = categories.dimension_code
            and contains(
                ';' || units.disaggregation || ';',
                ';' || categories.dimension_code || '=' || categories.category_code || ';'
            )
),

by_place_and_area as (
    {{ with_places_above('split') }}
),

aggregated as (
    select
        by_place_and_area.indicator_code,
        period,
        period_start,
        total_place as place_code,
        by_place_and_area.dimension_code,
        by_place_and_area.category_code,
        {{ aggregated_value() }} as value,
        count(distinct partner_code || '/' || reporting_unit) as contributors,
        count(distinct partner_code) as partners_reporting,
        count(*) as values_counted
    from by_place_and_area
    inner join indicators using (indicator_code)
    group by all
),

dimension_names as (
    select distinct
        dimension_code,
        dimension_name
    from categories
),

final as (
    select
        aggregated.indicator_code,
        aggregated.period,
        aggregated.period_start,
        aggregated.place_code,
        aggregated.dimension_code,
        dimension_names.dimension_name,
        aggregated.category_code,
        coalesce(
            categories.category_name,
            'Not broken down by ' || lower(dimension_names.dimension_name))
            as category_name,
        coalesce(categories.display_order, 999) as category_order,
        aggregated.value,
        aggregated.contributors,
        aggregated.partners_reporting,
        aggregated.values_counted,
        changed.period_inputs
    from aggregated
    inner join changed using (period_start)
    left join dimension_names using (dimension_code)
    left join categories
        on
            aggregated.dimension_code = categories.dimension_code
            and aggregated.category_code = categories.category_code
)

select * from final
