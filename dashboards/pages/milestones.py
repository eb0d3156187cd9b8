"""One indicator: actuals against baseline, milestones and target with the projection; the
breakdowns as small multiples; each partner's contribution; the values behind a point
(lineage); and the learning log's notes."""

import dash
import pandas as pd
from dash import Input, Output, callback, dcc, html

from dashboards import auth, queries
from dashboards.cache import cached_view, scope_of
from dashboards.components.breakdown_chart import (
    breakdown_figures,
    breakdown_panels,
    contribution_figure,
)
from dashboards.components.format import (
    aggregation_phrase,
    format_count,
    format_period,
    format_value,
    today,
    values_phrase,
)
from dashboards.components.layout import not_published, status_badge
from dashboards.components.learning_log import (
    CONTEXT,
    NOTES_CHANGED,
    notes_frame,
    notes_section,
)
from dashboards.components.milestone_chart import milestone_figure
from dashboards.components.suppression import threshold_for
from dashboards.components.tables import (
    data_table,
    figure_downloads,
    graph_config,
    panel_downloads,
)
from murmuration.formatting import AGGREGATION_WORDS
from murmuration.paths import ProjectPaths
from murmuration.registry.models import WHOLE_AREA

dash.register_page(__name__, order=1, path="/milestones", title="Indicator", name="Indicators")

LINEAGE_ROWS = 500  # listed under a clicked point (a whole-area month of a large initiative
# holds thousands of values)
LINEAGE_COLUMNS = {"partner": "Partner", "unit": "Reporting unit", "what": "Indicator",
                   "place_name": "Place", "breakdown": "Breakdown", "shown_value": "Value",
                   "file_name": "File", "sheet": "Sheet", "row": "Row", "column_name": "Column"}


def layout(indicator: str | None = None, place: str | None = None, **_query):
    user = auth.viewer()
    try:
        key = (scope_of(user), indicator if isinstance(indicator, str) else None,
               place if isinstance(place, str) else None, _notes_version(), today())
        return cached_view("indicator-page", key, lambda: _page(user, indicator, place))
    except queries.NotPublished:
        return not_published()


def _page(user, indicator, place):
    catalogue = queries.indicators_seen_in_full(user)
    codes = catalogue["indicator_code"].tolist()
    if not codes:
        return html.P("None of the indicators is in your working groups; the overview shows "
                      "where each one stands.", className="muted")
    place_options = place_choices(queries.place_tree())
    asked = [f"no indicator '{indicator}' is shown to you (there is none of that code, or it "
             "is not in your working groups)"] if indicator and indicator not in codes else []
    if place and place not in {o["value"] for o in place_options}:
        asked.append(f"there is no place '{place}'")
    if asked:
        # An address typed or kept from an older registry: say so, never an empty chart.
        return html.Div(id="indicator-not-found", children=[
            html.H2("Nothing to show at this address"),
            html.P("This link asks for what is not here: " + "; ".join(asked) + ".",
                   className="muted"),
            html.P([html.A("Open the indicators", href="/milestones"), " or go ",
                    html.A("back to the overview", href="/"), "."]),
        ])
    chosen = indicator if indicator in codes else _first_with_target(catalogue)
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
        html.Div(id="milestone-downloads"),
        html.Div(id="milestone-status", className="status-card"),
        html.Div(id="milestone-lineage", className="lineage", children=html.P(
            "Click a point to see the values behind it.", className="muted")),
        html.H3("Breakdowns"),
        html.P("Complete periods only, as for the status.", className="muted"),
        html.Div(id="milestone-breakdowns"),
        html.H3("Contributions: each partner's part"),
        html.Div(id="milestone-contributions"),
        notes_section(chosen, chosen_place, user),
        html.Div(id="milestone-definition", className="definition"),
    ])


def place_choices(tree: pd.DataFrame) -> list[dict]:
    """The whole area, then each place followed by the places below it, indented, with its
    level ("Kabul (Province)")."""
    options = [{"label": "Whole area", "value": WHOLE_AREA}]
    for row in tree.to_dict("records"):
        depth = int(row.get("place_depth") or 1)
        level = row.get("level_name")
        label = row["place_name"] + (f" ({level})" if isinstance(level, str) and level else "")
        options.append({"label": "\u2003" * (depth - 1) + label, "value": row["place_code"]})
    return options


def _first_with_target(catalogue) -> str:
    statuses = queries.milestone_status()
    statuses = statuses[statuses["indicator_code"].isin(catalogue["indicator_code"])]
    if not statuses.empty:
        return statuses.iloc[0]["indicator_code"]
    return catalogue.iloc[0]["indicator_code"]


def _indicator_for(indicator_code) -> tuple[dict | None, str | None]:
    """The indicator if this viewer sees it in full, else why not (callbacks take any input)."""
    if not isinstance(indicator_code, str):
        return None, "No indicator with this code."
    catalogue = queries.indicators_seen_in_full(auth.viewer()).set_index("indicator_code")
    if indicator_code not in catalogue.index:  # unknown, or not in this user's working groups
        known = indicator_code in set(queries.indicators()["indicator_code"])
        return None, ("This indicator is not in your working groups." if known else
                      "No indicator with this code.")
    return {"indicator_code": indicator_code, **catalogue.loc[indicator_code].to_dict()}, None


def _place(place_code) -> str | None:
    if place_code == WHOLE_AREA:
        return WHOLE_AREA
    known = set(queries.places()["place_code"])
    return place_code if isinstance(place_code, str) and place_code in known else None


@callback(
    Output("milestone-chart", "figure"),
    Output("milestone-status", "children"),
    Output("milestone-definition", "children"),
    Output("milestone-breakdowns", "children"),
    Output("milestone-contributions", "children"),
    Output("milestone-downloads", "children"),
    Output("milestone-chart", "config"),
    Input("milestone-indicator", "value"),
    Input("milestone-place", "value"),
    Input(NOTES_CHANGED, "data"),
)
def show_indicator(indicator_code, place_code, _note_added=None):
    indicator, refusal = _indicator_for(indicator_code)
    place_code = _place(place_code)
    if indicator is None or place_code is None:
        message = html.P(refusal or "No place with this code.", className="muted")
        return {}, message, "", "", "", "", {"displaylogo": False}
    user = auth.viewer()
    return cached_view("indicator", (scope_of(user), indicator_code, place_code,
                                     _notes_version()),
                       lambda: _indicator_views(indicator, place_code, user))


def _notes_version() -> tuple:
    """The learning log changes outside the snapshot: its files' times say when."""
    log = ProjectPaths.from_env().learning_log
    version = []
    for path in (log, log.with_name(log.name + "-wal")):
        try:
            stat = path.stat()
            version.append((stat.st_mtime_ns, stat.st_size))
        except OSError:
            version.append(None)
    return tuple(version)


@callback(Output(CONTEXT, "data", allow_duplicate=True), Input("milestone-indicator", "value"),
          Input("milestone-place", "value"), prevent_initial_call=True)
def notes_follow_the_chart(indicator_code, place_code):
    """The learning log below the chart lists (and adds to) the indicator and place shown."""
    indicator, _ = _indicator_for(indicator_code)
    place = _place(place_code)
    return {"indicator": indicator["indicator_code"] if indicator else None,
            "place": None if place in (None, WHOLE_AREA) else place}


def _indicator_views(indicator: dict, place_code: str, user):
    indicator_code = indicator["indicator_code"]
    initiative = queries.initiative()
    period_type = initiative["period_type"]
    k = threshold_for(user, initiative)
    totals = queries.base_period_totals_for(user, indicator_code, place_code)
    points = queries.target_points(indicator_code, place_code)
    statuses = queries.milestone_status()
    match = statuses[(statuses["indicator_code"] == indicator_code)
                     & (statuses["place_code"] == place_code)]
    status = match.iloc[0].to_dict() if not match.empty else None
    flags = queries.flagged_periods(indicator_code, place_code)
    quarantined = queries.quarantined_periods(indicator_code, place_code)
    parts = queries.contributions(indicator_code, place_code)
    revised = {period: ", ".join(sorted(rows["partner_name"]))
               for period, rows in parts[parts["values_revised"] > 0].groupby("period")}
    notes = notes_frame(indicator_code, place_code, user)
    figure = milestone_figure(indicator, totals, points, status, period_type=period_type,
                              flags=dict(zip(flags["period"], flags["flags"], strict=True)),
                              extreme=set(flags[flags["extreme_flags"] > 0]["period"]),
                              revised=revised, notes=notes, min_contributors=k,
                              quarantined=dict(zip(quarantined["period"],
                                                   quarantined["quarantined"], strict=True)))
    if status is None:
        card = html.P("No baseline, milestones or target are set for this indicator and place "
                      "in registry/targets.yaml, so there is no status.", className="muted")
    else:
        card = html.Div([status_badge(status["status"]), html.Span(" " + status["status_reason"])])
    # Breakdowns and parts over the complete periods only, as the status: a month with a
    # missing report would read as a fall.
    complete = set(totals[totals["completeness_state"] == "complete"]["period"])
    name = _chart_name(indicator, place_code)
    return (figure.to_dict(), card, _definition(indicator),
            _breakdowns(indicator, place_code, period_type, k, complete, name),
            _contributions(indicator, parts[parts["period"].isin(complete)], period_type, k,
                           user, name),
            figure_downloads(figure, "milestone-values", name), graph_config(name))


def _chart_name(indicator: dict, place_code: str) -> str:
    """What a downloaded file is called: the indicator and the place."""
    place = "Whole area" if place_code == WHOLE_AREA else next(
        (r["place_name"] for r in queries.places().to_dict("records")
         if r["place_code"] == place_code), place_code)
    return f"{indicator.get('short_name') or indicator['indicator_code']} - {place}"


def _breakdowns(indicator: dict, place_code: str, period_type: str, k: int, complete: set,
                name: str = ""):
    cells = queries.breakdowns(indicator["indicator_code"], place_code)
    cells = cells[cells["period"].isin(complete)]
    place_totals = None
    if indicator.get("by_place"):
        # By place: the places one level below the one shown (the top level for the whole
        # area), each with its own total.
        tree = queries.places()
        parents = tree["parent_code"].where(tree["parent_code"].notna(), WHOLE_AREA)
        below = tree[parents == place_code][["place_code", "place_name", "display_order"]]
        if not below.empty:
            totals = queries.base_totals(indicator["indicator_code"])
            place_totals = totals[totals["period"].isin(complete)].merge(below, on="place_code")
            place_totals = place_totals.rename(columns={"place_name": "category_name",
                                                        "display_order": "category_order"})
    panels, hidden = breakdown_panels(cells, place_totals, k)
    if not panels:
        return html.P("This indicator is not broken down by sex, age or place in what partners "
                      "report.", className="muted", id="breakdowns-none")
    note = (html.P(f"{format_count(hidden)} values built from fewer than {k} partners are not "
                   "shown to your role (and as many others as needed so they cannot be worked "
                   "out from the total).", className="muted", id="breakdowns-suppressed")
            if hidden else None)
    figures = breakdown_figures(panels, indicator, period_type)
    graph = html.Div(id="breakdown-chart", className="breakdown-panels", children=[
        dcc.Graph(id=f"breakdown-chart-{n}", figure=figure.to_dict(), className="breakdown-panel",
                  config=graph_config(f"{name} - breakdowns - {title}"))
        for n, ((title, _), figure) in enumerate(zip(panels, figures, strict=True), start=1)])
    downloads = panel_downloads([(title, figure) for (title, _), figure in
                                 zip(panels, figures, strict=True)],
                                "breakdown-values", f"{name} - breakdowns")
    return html.Div([graph, downloads, note] if note else [graph, downloads])


def _contributions(indicator: dict, parts: pd.DataFrame, period_type: str, k: int, user,
                   name: str = ""):
    if not indicator.get("shows_contributions", True):
        words = AGGREGATION_WORDS.get(indicator.get("place_aggregation"), "value")
        return html.P(f"The total is the {words} of every partner's values, not a sum: a "
                      f"partner's own {words} is not a part of it, so no partner's part is "
                      "shown. Click a point for the values behind it.", className="muted",
                      id="contributions-not-parts")
    if parts.empty:
        return html.P("No values yet.", className="muted")
    own = user.partner_scope() or ()
    figure, hidden = contribution_figure(parts, indicator, period_type, k, tuple(own))
    children = [dcc.Graph(id="contribution-chart", figure=figure.to_dict(),
                          config=graph_config(f"{name} - contributions")),
                figure_downloads(figure, "contribution-values", f"{name} - contributions")]
    if hidden:
        children.append(html.P(
            f"Other partners' parts are not shown to your role: each is built from fewer than "
            f"{k} partners.", className="muted", id="contributions-suppressed"))
    if indicator.get("aggregation") == "ratio":
        children.append(html.P("Each partner's own ratio: ratios do not add up, the total pairs "
                               "all partners' numerators and denominators.", className="muted"))
    return html.Div(children)


def _period_type() -> str:
    try:
        return queries.initiative()["period_type"]
    except queries.NotPublished:
        return "month"


def _definition(indicator: dict):
    better = {"higher_is_better": " Higher is better.", "lower_is_better": " Lower is better."}
    return html.Div([
        html.H4(indicator["indicator_name"]),
        html.P(indicator["definition"]),
        html.P(f"Unit: {indicator['unit_name']}. {aggregation_phrase(indicator, _period_type())}"
               f"{better.get(indicator['direction'], '')} Working group: "
               f"{indicator['working_group_name']}.", className="muted",
               id="indicator-aggregation"),
    ])


@callback(
    Output("milestone-lineage", "children"),
    Input("milestone-chart", "clickData"),
    Input("milestone-indicator", "value"),
    Input("milestone-place", "value"),
    prevent_initial_call=True,
)
def show_lineage(click, indicator_code, place_code):
    """The values behind the clicked point, each with its partner, file, sheet, row and
    column: the rows of the partners this viewer may see; the others counted, not shown."""
    if dash.ctx.triggered_id != "milestone-chart":
        return html.P("Click a point to see the values behind it.", className="muted")
    indicator, refusal = _indicator_for(indicator_code)
    place_code = _place(place_code)
    period = _clicked_period(click)
    if indicator is None or place_code is None or period is None:
        return html.P(refusal or "Click a point of the actual values.", className="muted")
    user = auth.viewer()
    return cached_view("lineage", (scope_of(user), indicator_code, place_code, period),
                       lambda: _lineage(indicator, place_code, period, user))


def _lineage(indicator: dict, place_code: str, period: str, user):
    indicator_code = indicator["indicator_code"]
    totals = queries.base_period_totals_for(user, indicator_code, place_code)
    point = totals[totals["period"] == period]
    if point.empty:
        return html.P("No total for this period.", className="muted")
    row = point.iloc[0]
    period_type = queries.initiative()["period_type"]
    over = values_phrase(indicator, row.get("values_counted"))
    title = (f"{format_period(period, row['period_start'], period_type)}: "
             f"{format_value(row['value'], int(indicator['decimals'] or 0), indicator['unit_name'])}"
             f"{f', the {over},' if over else ''}"
             f" from {format_count(row['partners_reporting'])} partners")
    values = queries.lineage(user, indicator_code, place_code, period)
    listed = len(values)
    values = values.head(LINEAGE_ROWS)
    if user.partner_scope() == ():
        return html.Div([html.H4(title, id="lineage-title"), html.P(
            "The values behind each total (files, sheets, rows) are seen by each partner for its "
            "own and by the backbone's data team.", className="muted", id="lineage-private")])
    names = queries.category_names()
    values = values.assign(
        partner=values["partner_name"], unit=values["reporting_unit"].replace("", "-"),
        what=values["indicator"], sheet=values["sheet"].replace("", "-"),
        breakdown=[queries.breakdown_label(text, names) for text in values["disaggregation"]],
        shown_value=[format_value(v, 2 if v != int(v) else 0, u)
                     for v, u in zip(values["value"], values["unit_name"], strict=True)],
        row=values["row_number"].map(format_count))
    notes = []
    if listed > LINEAGE_ROWS:
        notes.append(f"The first {format_count(LINEAGE_ROWS)} of {format_count(listed)} values "
                     "are listed; choose a place for fewer, or see each partner's feedback pack "
                     "(accepted.csv) for all.")
    if user.partner_scope():
        notes.append("Only your own values are listed; other partners' rows are theirs.")
    note = html.P(" ".join(notes), className="muted", id="lineage-note") if notes else None
    table = data_table(values, LINEAGE_COLUMNS, table_id="lineage-table", page_size=20,
                       numeric=("shown_value", "row"), export=title)
    return html.Div([html.H4(title, id="lineage-title"), table, *([note] if note else [])])


def _clicked_period(click) -> str | None:
    try:
        custom = click["points"][0]["customdata"]
    except (TypeError, KeyError, IndexError):
        return None
    if isinstance(custom, list) and len(custom) == 2 and isinstance(custom[1], str):
        return custom[1]
    return None
