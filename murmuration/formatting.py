"""Numbers, dates and periods written for people: one home for how the dashboard (and anything
it exports for reading) shows them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd


def _missing(value) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value)


def format_value(value, decimals: int = 0, unit: str = "") -> str:
    """1942.54 with 0 decimals and unit 'children' -> '1,943 children'; '%' sticks to the number."""
    if _missing(value):
        return "-"
    text = f"{value:,.{int(decimals)}f}"
    return f"{text} {unit}".strip() if unit and unit != "%" else f"{text}{unit}"


def format_count(value) -> str:
    """A count as an integer with thousands separators: 9.0 -> '9'."""
    return "-" if _missing(value) else f"{int(round(float(value))):,}"


def format_change(value, decimals: int = 0, unit: str = "") -> str:
    """A signed difference: +17 children, -3.5 hours, no change."""
    if _missing(value):
        return "-"
    if round(float(value), int(decimals)) == 0:
        return "no change"
    sign = "+" if value > 0 else "\u2212"
    return sign + format_value(abs(value), decimals, unit)


def format_percent(share, decimals: int = 0) -> str:
    """A share (0.9) as a percentage ('90%')."""
    return "-" if _missing(share) else f"{100 * float(share):.{decimals}f}%"


# The one way a day is written: in text (strftime) and in the dashboard's date pickers (their
# display_format, Moment.js tokens), so a chosen date reads as every other date on the page.
DATE_FORMAT = "%-d %b %Y"
DATE_PICKER_FORMAT = "D MMM YYYY"


def _moment(value) -> date | datetime | None:
    """A day or an instant as Python's own (years 1 to 9999, where pandas stops at 2262), or
    None when it is not one: a date text past year 9999 ('10000-01-15') is written as given."""
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.datetime64):
        try:
            value = value.astype("datetime64[us]").item()
        except (OverflowError, ValueError):
            return None
        return value if isinstance(value, datetime | date) else None
    try:
        return datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def format_date(value) -> str:
    """'15 Dec 2026'; any day a warehouse can hold, or the text as given when it is none."""
    if _missing(value):
        return "-"
    moment = _moment(value)
    return moment.strftime(DATE_FORMAT) if moment is not None else str(value)


def format_datetime(value) -> str:
    """An instant in UTC, as people read it: '29 Nov 2026, 18:37 UTC'."""
    if _missing(value):
        return "-"
    moment = _moment(value)
    if moment is None:
        return str(value)
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:  # an instant hours from year 1 or 9999
            pass
    return moment.strftime("%-d %b %Y, %H:%M") + (" UTC" if moment.tzinfo is not None else "")


def format_period(period: str | None, period_start=None, period_type: str = "month") -> str:
    """A reporting period by its type: 'Nov 2026', 'Q4 2026', '2026', 'week 5, 2023 (30 Jan)'."""
    if _missing(period) or period is None:
        return "-"
    if period_start is None or _missing(period_start):
        return str(period)
    start = _moment(period_start)
    if start is None:
        return str(period)
    if period_type == "month":
        return start.strftime("%b %Y")
    if period_type == "quarter":
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if period_type == "year":
        return str(start.year)
    if period_type == "week":
        year, week, _ = start.isocalendar()
        return f"week {week}, {year} ({start.strftime('%-d %b')})"
    return str(period)


def period_label(period: str | None, period_type: str = "month") -> str:
    """A period written as the registry writes it ('2026-12', '2023-W05') for people."""
    if period is None or _missing(period):
        return "-"
    text = str(period)
    try:
        if period_type == "week" and "-W" in text:
            year, week = text.split("-W")
            return format_period(text, date.fromisocalendar(int(year), int(week), 1), "week")
        if period_type == "month" and len(text) == 7:
            return format_period(text, text + "-01", "month")
    except ValueError:
        pass
    return text


def period_hover_format(period_type: str) -> str:
    """A plotly hover format for a period's start date, by the initiative's period type."""
    return {"month": "%b %Y", "week": "week of %-d %b %Y", "quarter": "%b %Y",
            "year": "%Y"}.get(period_type, "%-d %b %Y")


def today() -> date:
    return datetime.now(UTC).date()


# How an indicator rolls up, in words (registry Aggregation and TimeAggregation).
AGGREGATION_WORDS = {"sum": "sum", "mean": "mean", "median": "median", "min": "minimum",
                     "max": "maximum", "count": "count", "ratio": "ratio", "last": "last value",
                     "first": "first value"}
NOT_ADDED_UP = {"mean", "median", "min", "max"}


def aggregation_phrase(indicator: dict, period_type: str = "month") -> str:
    """'Median across partners and places; the mean of its months for a quarter or year.'"""
    across = indicator.get("place_aggregation") or indicator.get("aggregation") or "sum"
    over = indicator.get("time_aggregation") or "sum"
    if indicator.get("aggregation") == "ratio":
        first = "A ratio: numerator and denominator each added up across partners and places"
    elif indicator.get("aggregation") == "latest":
        first = "A count at a point in time, added up across partners and places"
    else:
        first = {"sum": "Added up", "count": "Counted"}.get(
            across, f"The {AGGREGATION_WORDS.get(across, across)}") + \
            " across partners and places"
    months = f"{period_type}s"
    second = {"sum": f"its {months} added up", "last": f"its latest {period_type}",
              "first": f"its first {period_type}",
              "count": f"the {months} reported counted"}.get(
        over, f"the {AGGREGATION_WORDS.get(over, over)} of its {months}")
    return f"{first}; for a quarter or year, {second} (per series)."


def values_phrase(indicator: dict, values_counted) -> str | None:
    """'median of 22 values' for a total that is not a sum (None for sums and ratios)."""
    across = indicator.get("place_aggregation") or indicator.get("aggregation")
    if across not in NOT_ADDED_UP or _missing(values_counted):
        return None
    count = int(values_counted)
    return f"{AGGREGATION_WORDS[across]} of {format_count(count)} value{'s' if count != 1 else ''}"
