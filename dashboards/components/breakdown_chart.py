"""Breakdowns as small multiples (one panel per dimension: sex, age band, place) and each
partner's contribution to the total over time, with small cells suppressed for the roles that
must not see them. Pure functions from query results."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.components.format import period_hover_format
from dashboards.components.suppression import suppress

SERIES_SHOWN = 10  # beyond this, the largest series are drawn and the rest added up as "other"
PALETTE = ["#1f4e79", "#d1495b", "#00798c", "#edae49", "#66a182", "#7a5195", "#8d96a3",
           "#2e4057", "#c05805", "#3b8ea5"]


def breakdown_panels(breakdowns: pd.DataFrame, place_totals: pd.DataFrame | None,
                     k: int = 1) -> tuple[list[tuple[str, pd.DataFrame]], int]:
    """The panels to draw: (title, cells with a 'category_name' and 'value', suppressed cells
    removed) per dimension, then by place; and how many cells were suppressed."""
    panels: list[tuple[str, pd.DataFrame]] = []
    hidden = 0
    for (_, name), cells in breakdowns.groupby(["dimension_code", "dimension_name"], sort=False,
                                               dropna=False):
        if cells["category_code"].notna().sum() == 0:
            continue  # nobody reported this breakdown: nothing to split
        judged = suppress(cells, groups=["period"], k=k)
        hidden += int(judged["suppressed"].notna().sum())
        panels.append((f"By {str(name).lower()}", judged[judged["suppressed"].isna()]))
    if place_totals is not None and not place_totals.empty:
        cells = place_totals.rename(columns={"partners_reporting": "contributors"})
        judged = suppress(cells, groups=["period"], k=k)
        hidden += int(judged["suppressed"].notna().sum())
        panels.append(("By place", largest_and_other(judged[judged["suppressed"].isna()],
                                                     "category_name", "places")))
    return panels, hidden


def largest_and_other(cells: pd.DataFrame, series: str, noun: str,
                      shown: int = SERIES_SHOWN) -> pd.DataFrame:
    """At most ``shown`` series: the largest over the periods drawn, the rest added up per
    period into "Other <noun> (n)" (350 places or 120 partners are not a readable chart). Only
    for parts that add up: callers pass cells of a summed indicator or accept the sum."""
    names = cells.groupby(series)["value"].sum().abs().sort_values(ascending=False)
    if len(names) <= shown:
        return cells
    kept = set(names.index[:shown - 1])
    rest = cells[~cells[series].isin(kept)]
    label = f"Other {noun} ({len(names) - len(kept)})"
    other = (rest.groupby(["period", "period_start"], as_index=False)
             .agg(value=("value", "sum"), **({"values_revised": ("values_revised", "sum")}
                                              if "values_revised" in rest else {}))
             .assign(**{series: label, "category_order": 10_000}))
    return pd.concat([cells[cells[series].isin(kept)], other], ignore_index=True)


def breakdown_figures(panels: list[tuple[str, pd.DataFrame]], indicator: dict,
                      period_type: str) -> list[go.Figure]:
    """One chart per panel (they sit side by side on a wide screen and one under another on a
    phone's), each with its legend under it and one y scale shared by all: the colours restart
    in every panel (one shared legend made "0 to 2 years", "Female" and "Northgate" the same
    entry colour in one list), and the scale lets panels be compared."""
    unit = indicator.get("unit_name") or ""
    decimals = int(indicator.get("decimals") or 0)
    template = ("%{fullData.name}, %{x|" + period_hover_format(period_type) + "}: %{y:,."
                + str(decimals) + "f} " + unit + "<extra></extra>")
    values = pd.concat([cells["value"] for _, cells in panels]) if panels else pd.Series([])
    values = values.dropna()
    span = None
    if not values.empty:
        low, high = float(values.min()), float(values.max())
        pad = (high - low) * 0.06 or abs(high) * 0.06 or 1.0
        span = [low - pad, high + pad]
    figures = []
    for title, cells in panels:
        legend_height = 20 * cells["category_name"].nunique() + 10
        order = (cells.sort_values("category_order") if "category_order" in cells else cells)
        figure = go.Figure()
        for position, (category, series) in enumerate(order.groupby("category_name",
                                                                     sort=False)):
            series = series.sort_values("period_start")
            figure.add_trace(go.Scatter(
                x=series["period_start"], y=series["value"], mode="lines", name=str(category),
                line={"color": PALETTE[position % len(PALETTE)], "width": 2,
                      "dash": "dot" if str(category).startswith("Not broken down") else "solid"},
                hovertemplate=template))
        figure.update_layout(
            template="plotly_white", height=300 + legend_height, hovermode="closest",
            title={"text": title, "x": 0.5, "xanchor": "center", "font": {"size": 14}},
            yaxis={"range": span, "title": unit} if span else {"title": unit},
            legend={"orientation": "v", "x": 0, "xanchor": "left", "y": -0.16,
                    "yanchor": "top", "font": {"size": 12}},
            margin={"l": 60, "r": 20, "t": 40, "b": 40 + legend_height})
        figures.append(figure)
    return figures


def contribution_figure(contributions: pd.DataFrame, indicator: dict, period_type: str,
                        k: int = 1, own: tuple[str, ...] = ()) -> tuple[go.Figure, int]:
    """Each partner's part over time: stacked areas for values that add up, lines for a
    ratio (each partner's own ratio). Returns the figure and how many parts were hidden."""
    unit = indicator.get("unit_name") or ""
    decimals = int(indicator.get("decimals") or 0)
    exempt = contributions["partner_code"].isin(own)
    judged = suppress(contributions, groups=["period"], k=k, exempt=exempt)
    hidden = int(judged["suppressed"].notna().sum())
    shown = judged[judged["suppressed"].isna()]
    stacked = indicator.get("aggregation") != "ratio"
    if stacked:
        shown = largest_and_other(shown, "partner_name", "partners")
    else:  # a ratio's parts do not add up: the largest denominators, no "other"
        largest = (shown.groupby("partner_name")["denominator_value"].sum()
                   .sort_values(ascending=False).index[:SERIES_SHOWN])
        shown = shown[shown["partner_name"].isin(largest)]
    figure = go.Figure()
    when = "%{x|" + period_hover_format(period_type) + "}"
    for position, (name, series) in enumerate(shown.groupby("partner_name", sort=True)):
        series = series.sort_values("period_start")
        revised = ["<br>revised by a later file" if count else ""
                   for count in series["values_revised"]]
        figure.add_trace(go.Scatter(
            x=series["period_start"], y=series["value"], name=str(name),
            mode="lines", stackgroup="parts" if stacked else None,
            line={"color": PALETTE[position % len(PALETTE)], "width": 1.5 if stacked else 2},
            customdata=revised,
            hovertemplate="%{fullData.name}, " + when + ": %{y:,." + str(decimals) + "f} "
                          + unit + "%{customdata}<extra></extra>"))
    figure.update_layout(template="plotly_white", height=340, hovermode="closest",
                         yaxis_title=unit, legend={"orientation": "h", "y": -0.2},
                         margin={"l": 60, "r": 20, "t": 20, "b": 40})
    return figure, hidden
