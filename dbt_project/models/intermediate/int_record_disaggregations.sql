-- One row per breakdown as a partner gives it - a mapping, the texts of its breakdown columns
-- (or a wide table's column header) and a DHIS2 category option combo - and per dimension,
-- with the registry category it resolves to. Resolved once per distinct way of giving it (a
-- handful per mapping), not per record: int_records_resolved joins records to it.
with records as (
    select distinct
        mapping_name,
        disaggregation_text,
        combo_text,
        combo_key
    from {{ ref('stg_landing__records') }}
    where extract_problem is null
),

specs as (
    select
        *,
        row_number() over (order by mapping_name, combo_key) as record_id
    from records
),

combos as (
    select * from {{ ref('stg_registry__combo_lookup') }}
),

categories as (
    select * from {{ ref('stg_registry__categories') }}
),

from_columns as (
    select
        items.record_id,
        items.mapping_name,
        items.item.dimension as dimension_code,
        nullif(trim(items.item.text), '') as category_text,
        'column' as given_by
    from (
        select
            record_id,
            mapping_name,
            unnest(disaggregation_text) as item
        from specs
    ) as items
),

from_combos as (
    select
        records.record_id,
        records.mapping_name,
        combos.dimension_code,
        combos.category_text,
        'combo ' || records.combo_text as given_by
    from specs as records
    inner join combos
        on
            records.mapping_name = combos.mapping_name
            and records.combo_key = combos.combo_key
),

given as (
    select * from from_columns
    where category_text is not null
    union all
    select * from from_combos
),

resolved as (
    select
        records.record_id,
        records.dimension_code,
        records.category_text,
        records.given_by,
        {{ resolved_code('category') }} as category_code
    from given as records
    {{ join_code('category', normalise_text('records.category_text'), 'records.dimension_code') }}
),

known_categories as (
    select
        dimension_code,
        any_value(dimension_name) as dimension_name,
        string_agg(category_name, ', ' order by display_order) as known_categories
    from categories
    group by dimension_code
),

final as (
    select
        specs.mapping_name,
        specs.disaggregation_text,
        specs.combo_text,
        resolved.dimension_code,
        resolved.category_text,
        resolved.given_by,
        resolved.category_code,
        known_categories.dimension_name,
        known_categories.known_categories
    from resolved
    inner join specs using (record_id)
    left join known_categories using (dimension_code)
)

select * from final
