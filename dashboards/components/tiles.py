"""The overview's indicator tiles: the latest complete value, the change since the period before,
the status against the next milestone, a sparkline with incomplete periods marked, and how many
partners reported. Pure functions from query results (unit-tested without a server)."""

from __future__ import annotations

import base64

import pandas as pd
from dash import dcc, html

from dashboards.components.format import (
    format_change,
    format_count,
    format_period,
    format_value,
    period_label,
    values_phrase,
)
from dashboards.components.status import STATUS_COLOURS
from murmuration.registry.models import WHOLE_AREA

SPARKLINE_PERIODS = 12
STATE_WORDS = {"incomplete": "incomplete", "not_yet_due": "not yet due"}


def tile_facts(indicator: dict, totals: pd.DataFrame, period_type: str,
               min_contributors: int = 1) -> dict:
    """What a tile says, from one indicator's whole-area totals per period (oldest first).
    Totals built from fewer than ``min_contributors`` partners are suppressed (hidden)."""
    decimals, unit = int(indicator.get("decimals") or 0), indicator.get("unit_name") or ""
    totals = totals.sort_values("period_start").reset_index(drop=True)
    hidden = totals["partners_reporting"].fillna(0) < min_contributors
    complete = (totals["completeness_state"] == "complete") & ~hidden
    facts: dict = {"value": "-", "period": None, "change": None, "reported": None,
                   "pending": None, "suppressed": bool(hidden.any() and not complete.any())}
    if facts["suppressed"]:
        return facts  # nothing about a hidden total, not even how many partners made it
    if complete.any():
        position = complete[complete].index[-1]
        latest = totals.loc[position]
        facts["value"] = format_value(latest["value"], decimals, unit)
        facts["period"] = format_period(latest["period"], latest["period_start"], period_type)
        facts["reported"] = _reported(latest, indicator)
        earlier = totals.loc[:position - 1]
        before = earlier[complete.loc[:position - 1]] if position > 0 else earlier
        if not before.empty:
            previous = before.iloc[-1]
            change = format_change(latest["value"] - previous["value"], decimals, unit)
            since = format_period(previous["period"], previous["period_start"], period_type)
            facts["change"] = f"{change} since {since}"
        later = totals.loc[position + 1:]
    else:
        later = totals
    if not later.empty:
        newest = later.iloc[-1]
        state = STATE_WORDS.get(newest["completeness_state"], newest["completeness_state"])
        facts["pending"] = (f"{format_period(newest['period'], newest['period_start'], period_type)}"
                            f": {_reported(newest, indicator)} so far ({state})")
    return facts


def _reported(row, indicator: dict | None = None) -> str:
    """'2 of 3 partners reported', and for a total that is not a sum what it is over
    ('median of 22 values; ...')."""
    over = values_phrase(indicator or {}, row.get("values_counted"))
    expected = row.get("partners_expected")
    if expected is None or expected != expected:
        count = row["partners_reporting"]
        said = f"{format_count(count)} partner{'s' if count != 1 else ''} reported"
    else:
        said = (f"{format_count(row['partners_reporting'])} of {format_count(expected)} "
                f"partner{'s' if expected != 1 else ''} reported")
    return f"{over[0].upper() + over[1:]}; {said}" if over else said


def sparkline(totals: pd.DataFrame, status: str, period_type: str,
              min_contributors: int = 1) -> html.Img | html.P:
    """The last periods as a small SVG line (no plotting library: a tile costs microseconds):
    complete periods joined, the others hollow points, with an alternative text."""
    recent = totals.sort_values("period_start").tail(SPARKLINE_PERIODS)
    shown = recent[recent["partners_reporting"].fillna(0) >= min_contributors]
    colour = STATUS_COLOURS.get(status, STATUS_COLOURS["no_data"])
    width, height, pad = 240, 56, 5
    values = shown["value"].astype(float).tolist()
    if not values:  # words, never an empty image (a browser draws a broken-image icon)
        said = ("Not drawn: each period is built from fewer partners than your role may see"
                if not recent.empty else "No values yet")
        return html.P(said, className="tile-sparkline tile-sparkline-empty muted")
    recent = shown
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    xy = [(pad + i * step, height - pad - (v - low) / span * (height - 2 * pad))
          for i, v in enumerate(values)]
    complete = (recent["completeness_state"] == "complete").tolist()
    lines, run = [], []
    for point, keep in zip(xy, complete, strict=True):
        if keep:
            run.append(point)
        elif run:
            lines.append(run)
            run = []
    if run:
        lines.append(run)
    shapes = [f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
              + " ".join(f"{x:.1f},{y:.1f}" for x, y in segment) + '"/>'
              for segment in lines if len(segment) > 1]
    shapes += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{2.5 if keep else 3.5}" '
               + (f'fill="{colour}"/>' if keep else
                  f'fill="white" stroke="{colour}" stroke-width="2"/>')
               for (x, y), keep in zip(xy, complete, strict=True)
               if not keep or len(values) == 1]
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}">' + "".join(shapes) + "</svg>")
    first, last = recent.iloc[0], recent.iloc[-1]
    hollow = len(complete) - sum(complete)
    alt = (f"{len(values)} periods from {format_period(first['period'], first['period_start'], period_type)}"
           f" to {format_period(last['period'], last['period_start'], period_type)}"
           + (f"; {hollow} not complete (hollow)" if hollow else ""))
    return html.Img(src="data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode(),
                    alt=alt, title=alt, className="tile-sparkline")


def indicator_tile(indicator: dict, totals: pd.DataFrame, statuses: pd.DataFrame,
                   period_type: str, *, opens: bool, min_contributors: int = 1) -> html.Div:
    """One indicator's tile. ``statuses``: its milestone statuses (whole area first, then the
    places with targets). ``opens``: whether the viewer may open the indicator page."""
    from dashboards.components.layout import status_badge

    facts = tile_facts(indicator, totals, period_type, min_contributors)
    code = indicator["indicator_code"]
    decimals, unit = int(indicator.get("decimals") or 0), indicator.get("unit_name") or ""
    area = statuses[statuses["place_code"] == WHOLE_AREA]
    main_status = area.iloc[0]["status"] if not area.empty else None
    title = (dcc.Link(indicator["short_name"], href=f"/milestones?indicator={code}&place={WHOLE_AREA}")
             if opens else html.Span(indicator["short_name"]))
    if main_status is None:
        status_line = html.Div(html.Span("No targets set", className="badge badge-none",
                                         **{"data-status": "none"}), className="tile-status")
    else:
        row = area.iloc[0]
        target = (f"{format_value(row['milestone_value'], decimals, unit)} "
                  f"by {period_label(row['milestone_period'], period_type)}"
                  if row["milestone_period"] else "")
        status_line = html.Div([status_badge(main_status),
                                html.Span(f" {row['milestone_kind']} {target}".rstrip()
                                          if target else "", className="muted")],
                               className="tile-status")
    places = [html.Li([f"{row['place_name']}: ", status_badge(row["status"])])
              for row in statuses[statuses["place_code"] != WHOLE_AREA].to_dict("records")]
    body = [
        html.H4(title, className="tile-title"),
        html.Div([html.Span(facts["value"], className="tile-value"),
                  html.Span(f" {facts['period']}" if facts["period"] else "",
                            className="tile-period")]),
        html.Div(facts["change"] or ("Suppressed: fewer partners than the minimum for your role"
                                     if facts["suppressed"] else "No complete period yet"),
                 className="tile-change"),
        status_line,
        sparkline(totals, main_status or "no_data", period_type, min_contributors),
        html.Div(facts["reported"] or "", className="tile-reported muted"),
        html.Div(facts["pending"] or "", className="tile-pending muted"),
        html.Ul(places, className="tile-places") if places else None,
    ]
    colour = STATUS_COLOURS.get(main_status or "no_data")
    return html.Div([part for part in body if part is not None], className="tile",
                    style={"borderTopColor": colour}, **{"data-indicator": code})
