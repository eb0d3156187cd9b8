-- Replacements held for review: a submission that would remove more than half of the values
-- it replaces in a slice, or leave a place that had values there with none (a complete return
-- cut short, a correction read as a whole return), is not published until the backbone
-- accepts it (`murmuration accept FILE`, or the Pipeline page). Replacing exactly the keys
-- sent (the default) removes nothing, so only complete returns are ever held. Held
-- submissions are left out of the claims that decide what is published; nothing of theirs
-- changes the published numbers.
with changes as (
    select * from {{ ref('int_supersession_changes_proposed') }}
),

accepted as (
    select submission_id from {{ ref('stg_landing__accepted_submissions') }}
),

compared as (
    select
        current_submission_id as submission_id,
        superseded_submission_id,
        partner_code,
        reporting_unit,
        period,
        compared_key,
        count(*) filter (where superseded_value is not null) as values_before,
        count(*) filter (
            where change in ('added', 'changed', 'unchanged')
        ) as values_after,
        count(*) filter (where change = 'removed') as values_removed,
        sum(superseded_value) as total_before,
        sum(current_value) filter (where change <> 'withdrawn') as total_after,
        list_sort(list(distinct place_code) filter (where superseded_value is not null))
            as places_before,
        -- A place the newer file withdraws explicitly is still spoken for.
        list_sort(list(distinct place_code) filter (
            where change in ('added', 'changed', 'unchanged', 'withdrawn')
        )) as places_after,
        list_sort(list(distinct indicator_code)) as indicators
    from changes
    group by all
),

judged as (
    select
        *,
        list_filter(places_before, lambda p: not list_contains(places_after, p))
            as places_dropped
    from compared
),

final as (
    select
        judged.submission_id,
        any_value(judged.partner_code) as partner_code,
        any_value(judged.reporting_unit) as reporting_unit,
        list_sort(list(distinct judged.period)) as periods,
        list_sort(list_distinct(flatten(list(judged.indicators)))) as indicators,
        list_sort(list(distinct judged.superseded_submission_id)) as would_replace,
        sum(judged.values_before) as values_before,
        sum(judged.values_after) as values_after,
        sum(judged.values_removed) as values_removed,
        sum(judged.total_before) as total_before,
        sum(judged.total_after) as total_after,
        list_sort(list_distinct(flatten(list(judged.places_dropped)))) as places_dropped,
        'it would remove ' || sum(judged.values_removed) || ' of the '
        || sum(judged.values_before) || ' values it replaces'
        || case len(list_distinct(flatten(list(judged.places_dropped))))
            when 0 then ''
            when 1 then ' and leave a place that had values with none'
            else
                ' and leave ' || len(list_distinct(flatten(list(judged.places_dropped))))
                || ' places that had values with none'
        end
        || ' (' || any_value(judged.partner_code) || ', '
        || array_to_string(list_sort(list(distinct judged.period)), ', ') || ': '
        || sum(judged.values_before) || ' values adding up to '
        || {{ format_number('sum(judged.total_before)') }} || ' before, '
        || sum(judged.values_after) || ' adding up to '
        || coalesce({{ format_number('sum(judged.total_after)') }}, '0') || ' after)'
            as reason
    from judged
    where
        judged.submission_id not in (select submission_id from accepted)
        and (judged.values_removed * 2 > judged.values_before or len(judged.places_dropped) > 0)
    group by judged.submission_id
)

select * from final
