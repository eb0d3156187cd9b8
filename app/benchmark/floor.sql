-- The floor: what DuckDB alone does with the benchmark's files, written by hand.
-- The same work as the pipeline's core (land as text, map to codes, quarantine, keep the latest
-- file per partner and slice, totals, outliers on trend residuals, consistency over time),
-- without orchestration, dbt, Great Expectations or feedback. floor.py fills the landing tables
-- (raw_long, raw_wide, raw_dhis2, files) and the lookups, then runs this script.

-- 1. One record per reported value, in the partner's own words.
create or replace table records as
select filename, "Month" as period_text, "Place" as place_text, "Indicator" as indicator_text,
    "Sex" as sex_text, "Value" as value_text
from raw_long
union all
select filename, period_text, place_text, indicator_text, sex_text, value_text
from (
    unpivot raw_wide
    on "People reached F", "People reached M", "People referred F", "People referred M"
    into name column_name value value_text
) as wide
cross join lateral (
    select wide."Month" as period_text, wide."Place" as place_text,
        regexp_replace(column_name, ' [FM]$', '') as indicator_text,
        right(column_name, 1) as sex_text
)
where wide."Place" <> 'Total'
union all
select filename, period, orgUnit, dataElement, categoryOptionCombo, value
from raw_dhis2;

-- 2. Codes, numbers and the first reason a value is not accepted.
create or replace table judged as
select
    records.*,
    files.partner_code,
    files.arrived_at,
    coalesce(try_strptime(records.period_text, '%Y-%m'),
             try_strptime(records.period_text, '%Y%m'))::date as period_start,
    places.code as place_code,
    indicators.code as indicator_code,
    sexes.code as sex_code,
    try_cast(records.value_text as double) as value,
    case
        when places.code is null then 'unknown place'
        when indicators.code is null then 'unknown indicator'
        when sexes.code is null then 'unknown sex'
        when try_cast(records.value_text as double) is null then 'not a number'
        when try_cast(records.value_text as double) not between 0 and 10000 then 'out of range'
    end as quarantine_reason
from records
join files using (filename)
left join places on places.text_key = lower(trim(records.place_text))
left join indicators on indicators.text_key = lower(trim(records.indicator_text))
left join sexes on sexes.text_key = lower(trim(records.sex_text));

-- 3. The latest file speaks for each partner, period and indicator.
create or replace table current_values as
select * from judged
where quarantine_reason is null
qualify dense_rank() over (partition by partner_code, period_start, indicator_code
                           order by arrived_at desc, filename desc) = 1;

-- 4. Totals per month, indicator and place, and for the whole area.
create or replace table totals as
select indicator_code, period_start, place_code, sum(value) as value,
    count(distinct partner_code) as partners_reporting
from current_values group by all
union all
select indicator_code, period_start, 'all', sum(value), count(distinct partner_code)
from current_values group by all;

-- 5. Outliers against each series' own trend (Theil's line), WHO z and modified z.
create or replace table series as
select partner_code, indicator_code, place_code, sex_code, period_start,
    year(period_start) * 12 + month(period_start) as t, value,
    row_number() over w as position,
    count(*) over (partition by partner_code, indicator_code, place_code, sex_code) as points
from current_values
window w as (partition by partner_code, indicator_code, place_code, sex_code
             order by period_start);

create or replace table trends as
with slopes as (
    select a.partner_code, a.indicator_code, a.place_code, a.sex_code,
        median((b.value - a.value) / (b.t - a.t)) as slope
    from series a join series b
        on b.partner_code = a.partner_code and b.indicator_code = a.indicator_code
        and b.place_code = a.place_code and b.sex_code = a.sex_code
        and b.position = a.position + a.points // 2
    group by all
)
select series.partner_code, series.indicator_code, series.place_code, series.sex_code,
    coalesce(any_value(slope), 0) as slope,
    median(value - coalesce(slope, 0) * t) as intercept, count(*) as points
from series left join slopes using (partner_code, indicator_code, place_code, sex_code)
group by all;

create or replace table outliers as
with residuals as (
    select series.*, value - (intercept + slope * t) as r
    from series join trends using (partner_code, indicator_code, place_code, sex_code)
    where trends.points >= 6
),
spread as (
    select *, avg(r) over s as mean_r, stddev_samp(r) over s as sd_r,
        median(r) over s as median_r
    from residuals
    window s as (partition by partner_code, indicator_code, place_code, sex_code)
),
mad as (
    select *, median(abs(r - median_r)) over (partition by partner_code, indicator_code,
                                               place_code, sex_code) as mad_r
    from spread
)
select *, (r - mean_r) / nullif(sd_r, 0) as z, 0.6745 * (r - median_r) / nullif(mad_r, 0) as mz
from mad
where abs((r - mean_r) / nullif(sd_r, 0)) >= 2 or abs(0.6745 * (r - median_r) / nullif(mad_r, 0)) >= 3.5;

-- 6. Consistency over time: a partner's monthly total against the mean of the three before.
create or replace table consistency as
with monthly as (
    select partner_code, indicator_code, period_start, sum(value) as value
    from current_values group by all
),
compared as (
    select *, avg(value) over (partition by partner_code, indicator_code order by period_start
                               rows between 3 preceding and 1 preceding) as preceding_mean,
        count(*) over (partition by partner_code, indicator_code order by period_start
                       rows between 3 preceding and 1 preceding) as preceding
    from monthly
)
select * from compared
where preceding = 3 and preceding_mean > 0 and abs(value / preceding_mean - 1) > 0.33;
