"""Steering committee overview: every indicator, grouped by working group, as a tile."""

import dash
from dash import html

from dashboards import auth, queries
from dashboards.cache import cached_view, scope_of
from dashboards.components.format import format_datetime
from dashboards.components.layout import not_published
from dashboards.components.suppression import threshold_for
from dashboards.components.tiles import indicator_tile
from murmuration.registry.models import WHOLE_AREA

dash.register_page(__name__, order=0, path="/", title="Overview", name="Overview")


def layout(**_query):
    user = auth.viewer()
    try:
        return cached_view("overview", scope_of(user), lambda: _overview(user))
    except queries.NotPublished:
        return not_published()


def _overview(user):
    catalogue = queries.indicators()
    statuses = queries.milestone_status()
    totals = queries.base_totals()
    initiative = queries.initiative()
    published = queries.published_at()
    period_type = initiative["period_type"]
    k = threshold_for(user, initiative)
    opens = set(queries.indicators_seen_in_full(user)["indicator_code"])
    area = totals[totals["place_code"] == WHOLE_AREA]
    sections = []
    for group, indicators in catalogue.groupby("working_group_name", sort=False):
        tiles = [indicator_tile(
            indicator, area[area["indicator_code"] == indicator["indicator_code"]],
            statuses[statuses["indicator_code"] == indicator["indicator_code"]], period_type,
            opens=indicator["indicator_code"] in opens, min_contributors=k)
            for indicator in indicators.to_dict("records")]
        sections.append(html.Section([html.H3(group), html.Div(tiles, className="tiles")],
                                     className="tile-group"))
    return html.Div([
        html.H2("Where each shared indicator is heading"),
        html.P(["The latest complete period of each indicator for the whole area, the change "
                "since the period before, and its status against the next milestone (the "
                "trend of recent complete periods projected to it). Hollow points: periods "
                "not complete yet. ",
                html.Span(f"Data published {format_datetime(published)}.",
                          id="published-at")], className="muted"),
        *sections,
    ])
