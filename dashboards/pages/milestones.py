"""One indicator over time against its baseline, milestones and target, with its status."""

import dash
from dash import Input, Output, callback, dcc, html

from dashboards import auth, queries
from dashboards.components.layout import not_published, status_badge
from dashboards.components.milestone_chart import milestone_figure
from murmuration.registry.models import WHOLE_AREA

dash.register_page(__name__, path="/milestones", title="Milestones", name="Milestones")


def layout(indicator: str | None = None, place: str | None = None, **_query):
    try:
        catalogue = queries.indicators_seen_in_full(auth.viewer())
        place_list = queries.places()
    except queries.NotPublished:
        return not_published()
    codes = catalogue["indicator_code"].tolist()
    if not codes:
        return html.P("None of the indicators is in your working groups; the overview shows "
                      "where each one stands.", className="muted")
    chosen = indicator if indicator in codes else _first_with_target(catalogue)
    place_options = [{"label": "Whole area", "value": WHOLE_AREA}] + [
        {"label": row["place_name"], "value": row["place_code"]}
        for row in place_list.to_dict("records")]
    chosen_place = place if place in {o["value"] for o in place_options} else WHOLE_AREA
    return html.Div([
        html.Div(className="controls", children=[
            html.Label(["Indicator", dcc.Dropdown(
                id="milestone-indicator", clearable=False, value=chosen,
                options=[{"label": f"{row['short_name']} ({row['working_group_name']})",
                          "value": row["indicator_code"]}
                         for row in catalogue.to_dict("records")])]),
            html.Label(["Place", dcc.Dropdown(id="milestone-place", clearable=False,
                                              value=chosen_place, options=place_options)]),
        ]),
        dcc.Graph(id="milestone-chart", config={"displaylogo": False}),
        html.Div(id="milestone-status", className="status-card"),
        html.Div(id="milestone-definition", className="definition"),
    ])


def _first_with_target(catalogue) -> str:
    statuses = queries.milestone_status()
    statuses = statuses[statuses["indicator_code"].isin(catalogue["indicator_code"])]
    if not statuses.empty:
        return statuses.iloc[0]["indicator_code"]
    return catalogue.iloc[0]["indicator_code"]


@callback(
    Output("milestone-chart", "figure"),
    Output("milestone-status", "children"),
    Output("milestone-definition", "children"),
    Input("milestone-indicator", "value"),
    Input("milestone-place", "value"),
)
def show_indicator(indicator_code: str, place_code: str):
    catalogue = queries.indicators_seen_in_full(auth.viewer()).set_index("indicator_code")
    if indicator_code not in catalogue.index:  # unknown, or not in this user's working groups
        known = indicator_code in set(queries.indicators()["indicator_code"])
        return {}, html.P("This indicator is not in your working groups." if known else
                          "No indicator with this code.", className="muted"), ""
    indicator = {"indicator_code": indicator_code, **catalogue.loc[indicator_code].to_dict()}
    totals = queries.monthly_totals_for(auth.viewer(), indicator_code, place_code)
    points = queries.target_points(indicator_code, place_code)
    statuses = queries.milestone_status()
    match = statuses[(statuses["indicator_code"] == indicator_code)
                     & (statuses["place_code"] == place_code)]
    status = match.iloc[0].to_dict() if not match.empty else None
    figure = milestone_figure(indicator, totals, points, status)
    if status is None:
        card = html.P("No baseline, milestones or target are set for this indicator and place "
                      "in registry/targets.yaml, so there is no status.", className="muted")
    else:
        card = html.Div([status_badge(status["status"]), html.Span(" " + status["status_reason"])])
    definition = html.Div([
        html.H4(indicator["indicator_name"]),
        html.P(indicator["definition"]),
        html.P(f"Unit: {indicator['unit_name']}. Aggregation: {indicator['aggregation']}. "
               f"{'Higher' if indicator['direction'] == 'higher_is_better' else 'Lower'} is "
               f"better. Working group: {indicator['working_group_name']}.", className="muted")
        if indicator["direction"] != "neutral" else
        html.P(f"Unit: {indicator['unit_name']}. Aggregation: {indicator['aggregation']}. "
               f"Working group: {indicator['working_group_name']}.", className="muted"),
    ])
    return figure, card, definition
