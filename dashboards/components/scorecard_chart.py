"""A partner's scorecard over time: the composite score and its parts, period by period."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

PARTS = {"completeness": "Completeness", "timeliness": "Timeliness", "validity": "Validity",
         "plausibility": "Plausibility"}


def scorecard_figure(partner_name: str, scorecard: pd.DataFrame) -> go.Figure:
    figure = go.Figure()
    if not scorecard.empty:
        figure.add_trace(go.Bar(
            x=scorecard["report_period"], y=scorecard["score"], name="Score",
            marker={"color": ["#1b7f3b" if s >= 90 else "#b86e00" if s >= 70 else "#b3261e"
                              for s in scorecard["score"]]},
            hovertemplate="%{x}: score %{y:.1f}<extra></extra>"))
        for column, label in PARTS.items():
            figure.add_trace(go.Scatter(
                x=scorecard["report_period"], y=100 * scorecard[column], name=label,
                mode="lines+markers", line={"width": 1}, yaxis="y",
                hovertemplate="%{x}: " + label.lower() + " %{y:.0f}%<extra></extra>"))
    figure.update_layout(
        # the partner on a line of its own: a title does not wrap at a phone's width
        title={"text": partner_name, "subtitle": {"text": "Submission quality by period"}},
        template="plotly_white",
        yaxis={"title": "score / % ", "range": [0, 105]}, barmode="overlay", height=440,
        # the legend at the foot of the figure, under the period labels however they turn
        legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom"},
        margin={"l": 60, "r": 20, "t": 80, "b": 120})
    return figure
