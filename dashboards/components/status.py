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
