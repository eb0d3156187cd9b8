{#- What a submission replaces is a slice of the partner's (or reporting unit's) values for a
    period, at a grain (registry SupersedeBy): the whole period (depth 0), an indicator (1), an
    indicator at a place (2), or one key - indicator, place and breakdown (3: value, and
    additive files, which replace only by an explicit withdrawal). A slice's key at a grain is
    its parts joined with '|', so a coarser slice's key is the start of a finer one's. -#}
{% macro grain_depth(grain) -%}
    case {{ grain }} when 'period' then 0 when 'indicator' then 1 when 'place' then 2 else 3 end
{%- endmacro %}

{#- The key of the slice holding a value (``prefix``: the relation with indicator_code,
    place_code and disaggregation) at ``depth`` (grain_depth). -#}
{% macro slice_key_at(depth, prefix) -%}
    case {{ depth }}
        when 0 then ''
        when 1 then {{ prefix }}.indicator_code
        when 2 then {{ prefix }}.indicator_code || '|' || {{ prefix }}.place_code
        else
            {{ prefix }}.indicator_code || '|' || {{ prefix }}.place_code || '|'
            || {{ prefix }}.disaggregation
    end
{%- endmacro %}

{#- Whether a newer claim's reporting unit speaks for an older one's: the same unit, or either
    is the partner as a whole ('') - unless the other is a report of its own
    (distinct_reports_by: a project or donor), which only the same report replaces. -#}
{% macro unit_covers(older, newer) -%}
    (
        {{ older }}.reporting_unit = {{ newer }}.reporting_unit
        or ({{ newer }}.reporting_unit = '' and not {{ older }}.distinct_report)
        or ({{ older }}.reporting_unit = '' and not {{ newer }}.distinct_report)
    )
{%- endmacro %}
