"""The milestone chart: actual values over time against baseline, milestones and target."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.components.format import format_value
from dashboards.components.status import STATUS_COLOURS, STATUS_LABELS

POINT_SYMBOLS = {"baseline": "circle-open", "milestone": "diamond", "target": "star"}
STATE_WORDS = {"incomplete": "incomplete", "not_yet_due": "not yet due"}


def _is_complete(totals: pd.DataFrame) -> list[bool]:
    if "completeness_state" not in totals:
        return [True] * len(totals)
    return [not (isinstance(state, str) and state != "complete")
            for state in totals["completeness_state"]]


def _coverage_text(row: dict) -> str:
    """'2 of 3 partners reported, due 2026-12-15 (not yet due)' for a point's hover."""
    reporting, expected = row.get("partners_reporting"), row.get("partners_expected")
    text = (f"{int(reporting)} of {int(expected)} partners reported"
            if expected is not None and expected == expected
            else f"{int(reporting)} partners reported")
    state = row.get("completeness_state")
    if state in STATE_WORDS:
        due = row.get("due_date")
        text += (f", due {pd.Timestamp(due):%Y-%m-%d}" if due is not None and due == due
                 else "") + f" ({STATE_WORDS[state]}: left out of the status)"
    unpaired = row.get("parts_unpaired")
    if unpaired:
        text += (f"<br>{int(unpaired)} value{'s' if unpaired != 1 else ''} left out: only one of "
                 "numerator and denominator was accepted")
    return text


def milestone_figure(indicator: dict, totals: pd.DataFrame, points: pd.DataFrame,
                     status: dict | None) -> go.Figure:
    """Monthly actuals, the planned path through baseline/milestones/target, and the
    projection of the recent trend to the next milestone, coloured by status."""
    unit = indicator.get("unit_name") or ""
    decimals = int(indicator.get("decimals") or 0)
    state = (status or {}).get("status", "no_data")
    colour = STATUS_COLOURS[state]
    figure = go.Figure()

    if not totals.empty:
        # Complete periods make the line; incomplete and not-yet-due ones are hollow points
        # off it (a gap in the line), their hover saying how many partners reported.
        complete = _is_complete(totals)
        hover = [_coverage_text(row) for row in totals.to_dict("records")]
        value_format = "%{y:,." + str(decimals) + "f} " + unit
        template = "%{x|%b %Y}: " + value_format + "<br>%{customdata}<extra></extra>"
        figure.add_trace(go.Scatter(
            x=totals["period_start"],
            y=[value if keep else None for value, keep in zip(totals["value"], complete,
                                                               strict=True)],
            mode="lines+markers", name="Actual", connectgaps=False,
            line={"color": "#1f4e79", "width": 2}, marker={"size": 7, "color": "#1f4e79"},
            customdata=hover, hovertemplate=template))
        left_out = [not keep for keep in complete]
        if any(left_out):
            figure.add_trace(go.Scatter(
                x=totals["period_start"][left_out], y=totals["value"][left_out], mode="markers",
                name="Not complete (left out of status)",
                marker={"size": 9, "symbol": "circle-open", "color": "#1f4e79",
                        "line": {"width": 2}},
                customdata=[text for text, out in zip(hover, left_out, strict=True) if out],
                hovertemplate=template))

    if not points.empty:
        figure.add_trace(go.Scatter(
            x=points["period_start"], y=points["target_value"], mode="lines", name="Planned path",
            line={"color": "#888888", "dash": "dot", "width": 1}, hoverinfo="skip"))
        for kind, group in points.groupby("point_kind", sort=False):
            figure.add_trace(go.Scatter(
                x=group["period_start"], y=group["target_value"], mode="markers+text",
                name=kind.capitalize(), text=[format_value(v, decimals) for v in
                                              group["target_value"]],
                textposition="top center",
                marker={"symbol": POINT_SYMBOLS.get(kind, "circle"), "size": 12,
                        "color": "#444444"},
                hovertemplate=kind.capitalize() + " %{x|%b %Y}: %{y:,." + str(decimals) + "f} "
                              + unit + "<extra></extra>"))

    if status and state != "no_data" and status.get("milestone_period") and not totals.empty:
        # The projection starts from the latest complete period (the one the status used).
        used = totals[_is_complete(totals)]
        latest = used.iloc[-1] if not used.empty else totals.iloc[-1]
        milestone_start = pd.Timestamp(status["milestone_period"] + "-01")
        if milestone_start > pd.Timestamp(latest["period_start"]):
            figure.add_trace(go.Scatter(
                x=[latest["period_start"], milestone_start],
                y=[latest["value"], status["projected_value"]],
                mode="lines+markers", name=f"Trend projection ({STATUS_LABELS[state].lower()})",
                line={"color": colour, "dash": "dash", "width": 2},
                marker={"size": [0, 9], "color": colour},
                hovertemplate="Projected %{x|%b %Y}: %{y:,." + str(decimals) + "f} " + unit
                              + "<extra></extra>"))

    figure.update_layout(
        title={"text": f"{indicator['short_name']} - {STATUS_LABELS[state]}",
               "font": {"color": colour}},
        yaxis_title=unit, xaxis_title=None, hovermode="closest", template="plotly_white",
        legend={"orientation": "h", "y": -0.15}, margin={"l": 60, "r": 20, "t": 60, "b": 40},
        height=460)
    return figure
