"""Numbers, dates and periods written for people: the dashboard's name for
``murmuration.formatting`` (which the pipeline imports too, without Dash)."""

from murmuration.formatting import (  # noqa: F401
    DATE_PICKER_FORMAT,
    aggregation_phrase,
    format_change,
    format_count,
    format_date,
    format_datetime,
    format_percent,
    format_period,
    format_value,
    period_hover_format,
    period_label,
    today,
    values_phrase,
)
