"""How a milestone status is shown: one colour and one label per status, used everywhere."""

STATUS_LABELS = {
    "on_track": "On track",
    "at_risk": "At risk",
    "off_track": "Off track",
    "no_data": "No data",
}
STATUS_COLOURS = {
    "on_track": "#1b7f3b",
    "at_risk": "#b86e00",
    "off_track": "#b3261e",
    "no_data": "#6b6b6b",
}


def format_value(value, decimals: int = 0, unit: str = "") -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    text = f"{value:,.{int(decimals)}f}"
    return f"{text} {unit}".strip() if unit and unit != "%" else f"{text}{unit}"
