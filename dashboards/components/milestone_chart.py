"""The milestone chart: actual values over time against baseline, milestones and target."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.components.format import format_value, period_hover_format, values_phrase
from dashboards.components.status import STATUS_COLOURS, STATUS_LABELS

POINT_SYMBOLS = {"baseline": "circle-open", "milestone": "diamond", "target": "star"}
STATE_WORDS = {"incomplete": "incomplete", "not_yet_due": "not yet due"}


def _is_complete(totals: pd.DataFrame) -> list[bool]:
    if "completeness_state" not in totals:
        return [True] * len(totals)
    return [not (isinstance(state, str) and state != "complete")
            for state in totals["completeness_state"]]


def _coverage_text(row: dict, revised: dict | None = None, flags: dict | None = None,
                   quarantined: dict | None = None, indicator: dict | None = None) -> str:
    """'2 of 3 partners reported, due 2026-12-15 (not yet due)' for a point's hover (for a
    median, mean, minimum or maximum, what it is over: 'median of 22 values'), and whether a
    later file revised it or values behind it were flagged."""
    reporting, expected = row.get("partners_reporting"), row.get("partners_expected")
    text = (f"{int(reporting)} of {int(expected)} partners reported"
            if expected is not None and expected == expected
            else f"{int(reporting)} partners reported")
    over = values_phrase(indicator or {}, row.get("values_counted"))
    if over:
        text = f"{over[0].upper() + over[1:]}; {text}"
    state = row.get("completeness_state")
    if state in STATE_WORDS:
        due = row.get("due_date")
        text += (f", due {pd.Timestamp(due):%Y-%m-%d}" if due is not None and due == due
                 else "") + f" ({STATE_WORDS[state]}: left out of the status)"
    unpaired = row.get("parts_unpaired")
    if unpaired:
        text += (f"<br>{int(unpaired)} value{'s' if unpaired != 1 else ''} left out: only one of "
                 "numerator and denominator was accepted")
    period = row.get("period")
    if revised and period in revised:
        text += f"<br>Revised by a later file from {revised[period]}"
    if quarantined and period in quarantined:
        count = int(quarantined[period])
        text += (f"<br>{count} value{'s' if count != 1 else ''} quarantined, not counted "
                 "(Quality page)")
    if flags and period in flags:
        count = int(flags[period])
        text += (f"<br>{count} value{'s' if count != 1 else ''} behind it flagged as unusual "
                 "(Quality page)")
    return text


def milestone_figure(indicator: dict, totals: pd.DataFrame, points: pd.DataFrame,
                     status: dict | None, *, period_type: str = "month",
                     flags: dict | None = None, extreme: set | None = None,
                     revised: dict | None = None, quarantined: dict | None = None,
                     notes: pd.DataFrame | None = None,
                     min_contributors: int = 1) -> go.Figure:
    """Actuals per period, the planned path through baseline/milestones/target, and the
    projection of the recent trend to the next milestone, coloured by status. ``flags``:
    period -> values flagged behind its total (``extreme``: the periods holding an extreme
    outlier, marked); ``quarantined``: period -> values quarantined (marked); ``revised``:
    period -> who revised it; ``notes``: learning-log notes (noted_on, text, author) drawn as
    markers; totals from fewer than ``min_contributors`` partners are left out (small-cell
    suppression)."""
    unit = indicator.get("unit_name") or ""
    decimals = int(indicator.get("decimals") or 0)
    state = (status or {}).get("status", "no_data")
    colour = STATUS_COLOURS[state]
    when = "%{x|" + period_hover_format(period_type) + "}"
    figure = go.Figure()
    if not totals.empty and min_contributors > 1:
        totals = totals[totals["partners_reporting"].fillna(0) >= min_contributors]

    if not totals.empty:
        # Complete periods make the line; incomplete and not-yet-due ones are hollow points
        # off it (a gap in the line), their hover saying how many partners reported.
        complete = _is_complete(totals)
        hover = [[_coverage_text(row, revised, flags, quarantined, indicator), row.get("period")]
                 for row in totals.to_dict("records")]
        value_format = "%{y:,." + str(decimals) + "f} " + unit
        template = when + ": " + value_format + "<br>%{customdata[0]}<extra></extra>"
        figure.add_trace(go.Scatter(
            x=totals["period_start"],
            y=[value if keep else None for value, keep in zip(totals["value"], complete,
                                                               strict=True)],
            mode="lines+markers", name="Actual", connectgaps=False,
            line={"color": "#1f4e79", "width": 2}, marker={"size": 7, "color": "#1f4e79"},
            customdata=hover, hovertemplate=template))
        left_out = [not keep for keep in complete]
        _mark(figure, totals, left_out, hover, template, "Not complete (left out of status)",
              {"size": 9, "symbol": "circle-open", "color": "#1f4e79", "line": {"width": 2}})
        # Values flagged as extreme outliers mark their period (moderate ones are common in
        # any long series: the hover counts them all).
        flagged = [bool(extreme) and row.get("period") in extreme
                   for row in totals.to_dict("records")]
        _mark(figure, totals, flagged, hover, template,
              "Holds a value flagged as an extreme outlier",
              {"size": 15, "symbol": "circle-open", "color": "#b3261e", "line": {"width": 2}})

        # A period whose total misses quarantined values (a dip may be that, not a fall).
        missing = [bool(quarantined) and row.get("period") in quarantined
                   for row in totals.to_dict("records")]
        _mark(figure, totals, missing, hover, template, "Misses quarantined values",
              {"size": 11, "symbol": "triangle-down-open", "color": "#b86e00",
               "line": {"width": 2}})

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
                hovertemplate=kind.capitalize() + " " + when + ": %{y:,." + str(decimals)
                              + "f} " + unit + "<extra></extra>"))

    if status and state != "no_data" and status.get("milestone_period") and not totals.empty:
        # The projection starts from the latest complete period (the one the status used).
        used = totals[_is_complete(totals)]
        latest = used.iloc[-1] if not used.empty else totals.iloc[-1]
        milestone_start = _period_start(points, status["milestone_period"])
        if milestone_start is not None and milestone_start > pd.Timestamp(latest["period_start"]):
            figure.add_trace(go.Scatter(
                x=[latest["period_start"], milestone_start],
                y=[latest["value"], status["projected_value"]],
                mode="lines+markers", name=f"Trend projection ({STATUS_LABELS[state].lower()})",
                line={"color": colour, "dash": "dash", "width": 2},
                marker={"size": [0, 9], "color": colour},
                hovertemplate="Projected " + when + ": %{y:,." + str(decimals) + "f} " + unit
                              + "<extra></extra>"))

    if notes is not None and not notes.empty:
        _draw_notes(figure, notes)

    figure.update_layout(
        title={"text": f"{indicator['short_name']} - "
                       + (STATUS_LABELS[state] if status else "no targets set"),
               "font": {"color": colour if status else "#333333"}},
        yaxis_title=unit, xaxis_title=None, hovermode="closest", template="plotly_white",
        legend={"orientation": "h", "y": -0.15}, margin={"l": 60, "r": 20, "t": 60, "b": 40},
        height=460)
    return figure


def _mark(figure: go.Figure, totals: pd.DataFrame, chosen: list[bool], hover: list,
          template: str, name: str, marker: dict) -> None:
    """Some periods' totals drawn again as a marked trace (not complete, flagged, missing
    quarantined values), with the same hover as the line."""
    if not any(chosen):
        return
    figure.add_trace(go.Scatter(
        x=totals["period_start"][chosen], y=totals["value"][chosen], mode="markers", name=name,
        marker=marker, customdata=[text for text, on in zip(hover, chosen, strict=True) if on],
        hovertemplate=template))


def _period_start(points: pd.DataFrame, period: str):
    """Where a target point's period starts (from the targets themselves: months or weeks)."""
    if not points.empty and "period" in points:
        match = points[points["period"] == period]
        if not match.empty:
            return pd.Timestamp(match.iloc[0]["period_start"])
    try:
        return pd.Timestamp(period + "-01")
    except ValueError:
        return None


def _draw_notes(figure: go.Figure, notes: pd.DataFrame) -> None:
    """Learning-log notes as dotted lines on their dates, the note in the marker's hover."""
    for note in notes.to_dict("records"):
        day = pd.Timestamp(note["noted_on"])
        figure.add_shape(type="line", x0=day, x1=day, yref="paper", y0=0, y1=1,
                         line={"color": "#7a5195", "width": 1, "dash": "dot"})
        figure.add_annotation(
            x=day, y=1, yref="paper", yanchor="bottom", showarrow=False, text="\u270e",
            font={"color": "#7a5195", "size": 14},
            hovertext=f"{day:%-d %b %Y}: {note['text']} ({note.get('author', '')})")
