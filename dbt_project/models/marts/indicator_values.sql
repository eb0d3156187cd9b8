-- The harmonised values: one per indicator, partner, reporting unit, period, place and
-- breakdown, from the submission that currently speaks for that key (see
-- intermediate.int_submission_claims). Rows a mapping declares as adding up
-- (duplicate_keys: sum), the sites of a key (dedupe_by, each site's one row after max or
-- first) and complementary files in additive mode are summed; `records` says how many were.
{{ partner_incremental_config() }}

with changed as (
    {{ changed_partners() }}
),

outcomes as (
    select
        outcomes.*,
        changed.partner_inputs as inputs
    from {{ ref('int_records_outcomes') }} as outcomes
    inner join changed using (partner_key)
    where outcome = 'current'
),

final as (
    select
        min(record_id) as record_id,
        indicator_code,
        partner_code,
        reporting_unit,
        period,
        period_start,
        place_code,
        disaggregation,
        sum(value) as value,
        count(*) as records,
        arg_min(value_text, record_id) as reported_text,
        any_value(unit_factor) as unit_factor,
        arg_min(submission_id, record_id) as submission_id,
        arg_min(file_name, record_id) as file_name,
        arg_min(sheet, record_id) as sheet,
        arg_min(row_number, record_id) as row_number,
        arg_min(column_name, record_id) as column_name,
        max(arrived_at) as arrived_at,
        partner_key,
        any_value(inputs) as partner_inputs
    from outcomes
    group by
        indicator_code, partner_code, reporting_unit, period, period_start, place_code,
        disaggregation, partner_key
),

places as (
    select * from {{ ref('stg_registry__places') }}
)

select
    final.* exclude (partner_key, partner_inputs),
    -- The level the value was reported at (a province's, a region's, the whole area's).
    case
        when final.place_code = {{ whole_area() }} then 'Whole area'
        else coalesce(places.level_name, 'Place')
    end as place_level,
    final.partner_key,
    final.partner_inputs
from final
left join places using (place_code)
