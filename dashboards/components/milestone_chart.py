"""The milestone chart: actual values over time against baseline, milestones and target."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.components.status import STATUS_COLOURS, STATUS_LABELS, format_value

POINT_SYMBOLS = {"baseline": "circle-open", "milestone": "diamond", "target": "star"}


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
        coverage = [
            f"{int(r)} of {int(e)} partners reported" if e == e and e is not None
            else f"{int(r)} partners reported"
            for r, e in zip(totals["partners_reporting"], totals["partners_expected"],
                            strict=True)]
        figure.add_trace(go.Scatter(
            x=totals["period_start"], y=totals["value"], mode="lines+markers", name="Actual",
            line={"color": "#1f4e79", "width": 2}, marker={"size": 6},
            customdata=coverage,
            hovertemplate="%{x|%b %Y}: %{y:,." + str(decimals) + "f} " + unit
                          + "<br>%{customdata}<extra></extra>"))

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
        latest = totals.iloc[-1]
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
