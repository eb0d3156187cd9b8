-- Consistency between related indicators (WHO Data Quality Review), per partner, period, place
-- and breakdown both indicators report (current values):
--   similar     A / B outside 1 +/- tolerance
--   at_least    A / B below 1 - tolerance (A should not be smaller than B)
--   dropout     (A - B) / A below 0 (more finished than started)
--   ratio_range a ratio indicator's numerator / denominator x factor above its valid maximum
--               (for a percentage: numerator > denominator)
-- A partner's flags follow from its own values and the rules: rebuilt for the partners whose
-- records changed.
{{ partner_incremental_config() }}

with changed as (
    {{ changed_partners() }}
),

indicator_values as (
    select indicator_values.* exclude (partner_inputs)
    from {{ ref('indicator_values') }} as indicator_values
    inner join changed using (partner_key)
),

indicators as (
    select * from {{ ref('stg_registry__indicators') }}
),

declared as (
    select
        relation_id::varchar as relation_id,
        kind,
        a_code,
        b_code,
        tolerance,
        description
    from {{ ref('stg_registry__relations') }}
    union all
    select
        'ratio:' || indicator_code as relation_id,
        'ratio_range' as kind,
        numerator_code as a_code,
        denominator_code as b_code,
        valid_max / factor as tolerance,
        short_name || ' may not exceed ' || {{ format_number('valid_max') }} as description
    from indicators
    where aggregation = 'ratio' and valid_max is not null
),

totals as (
    select
        indicator_code,
        partner_code,
        period,
        place_code,
        disaggregation,
        sum(value) as value,
        any_value(submission_id) as submission_id,
        min(file_name) as file_name,
        partner_key
    from indicator_values
    group by all
),

paired as (
    select
        declared.*,
        a.partner_code,
        a.period,
        a.place_code,
        a.disaggregation,
        a.value as a_value,
        b.value as b_value,
        a.submission_id,
        a.file_name,
        a.partner_key,
        a_indicator.short_name as a_name,
        b_indicator.short_name as b_name
    from declared
    inner join totals as a on declared.a_code = a.indicator_code
    inner join totals as b
        on
            declared.b_code = b.indicator_code
            and a.partner_code = b.partner_code
            and a.period = b.period
            and a.place_code = b.place_code
            and a.disaggregation = b.disaggregation
    inner join indicators as a_indicator on declared.a_code = a_indicator.indicator_code
    inner join indicators as b_indicator on declared.b_code = b_indicator.indicator_code
),

judged as (
    select
        *,
        case kind
            when 'similar'
                then
                    case
                        when b_value = 0 then a_value <> 0
                        else abs(a_value / b_value - 1) > tolerance
                    end
            when 'at_least'
                then
                    case when b_value = 0 then false else a_value / b_value < 1 - tolerance end
            when 'dropout'
                then
                    case when a_value = 0 then b_value > 0 else (a_value - b_value) / a_value < 0 end
            when 'ratio_range' then
                case when b_value = 0 then a_value > 0 else a_value / b_value > tolerance end
        end as flagged
    from paired
),

final as (
    select
        md5(relation_id || partner_code || period || place_code || disaggregation) as flag_id,
        'relation_' || kind as rule,
        relation_id,
        partner_code,
        period,
        place_code,
        disaggregation,
        a_code,
        b_code,
        a_value,
        b_value,
        submission_id,
        file_name,
        case kind
            when 'similar'
                then
                    a_name || ' (' || {{ format_number('a_value') }} || ') and '
                    || b_name || ' (' || {{ format_number('b_value') }} || ') differ by more than '
                    || {{ format_number('100 * tolerance') }} || '%'
            when 'at_least'
                then
                    a_name || ' (' || {{ format_number('a_value') }}
                    || ') is smaller than ' || b_name || ' (' || {{ format_number('b_value') }} || ')'
            when 'dropout'
                then
                    b_name || ' (' || {{ format_number('b_value') }} || ') exceeds '
                    || a_name || ' (' || {{ format_number('a_value') }} || '): a negative drop-out'
            else
                a_name || ' (' || {{ format_number('a_value') }} || ') over ' || b_name || ' ('
                || {{ format_number('b_value') }} || ')'
        end || coalesce(' - ' || nullif(description, ''), '') as description,
        partner_key
    from judged
    where flagged
)

select
    final.*,
    changed.partner_inputs
from final
inner join changed using (partner_key)
