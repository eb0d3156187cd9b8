"""Submission quality: every partner's scorecard, and one partner's in detail, for the partner
itself and for the steering committee deciding how far to trust the numbers."""

import dash
from dash import Input, Output, callback, dash_table, dcc, html

from dashboards import auth, queries
from dashboards.components.layout import not_published
from dashboards.components.scorecard_chart import scorecard_figure

dash.register_page(__name__, path="/quality", title="Submission quality", name="Quality")


def _percent(value) -> str:
    return "-" if value is None or value != value else f"{100 * value:.0f}%"


def layout(partner: str | None = None, **_query):
    try:
        cards = queries.partner_scorecards(auth.viewer())
    except queries.NotPublished:
        return not_published()
    codes = cards["partner_code"].tolist()
    chosen = partner if partner in codes else (codes[0] if codes else None)
    rows = [{
        "Partner": row["partner_name"], "Score": row["score"],
        "Completeness": _percent(row["completeness"]), "Timeliness": _percent(row["timeliness"]),
        "Validity": _percent(row["validity"]), "Plausibility": _percent(row["plausibility"]),
        "Flags": int(row["outliers"] + row["consistency_flags"] + row["relation_flags"]),
        "Targets met": "yes" if row["meets_completeness_target"]
        and row["meets_timeliness_target"] else "no",
    } for row in cards.to_dict("records")]
    return html.Div([
        html.H2("Submission quality"),
        html.P("Each partner over its last 12 expected reports. Completeness and timeliness "
               "targets follow the WHO Data Quality Review (90% and 75%).", className="muted"),
        dash_table.DataTable(id="partner-scorecards", data=rows,
                             columns=[{"name": c, "id": c} for c in rows[0]] if rows else [],
                             style_cell={"textAlign": "left", "fontFamily": "inherit"},
                             sort_action="native"),
        html.Div(className="controls", children=[
            html.Label(["Partner", dcc.Dropdown(
                id="quality-partner", clearable=False, value=chosen,
                options=[{"label": row["partner_name"], "value": row["partner_code"]}
                         for row in cards.to_dict("records")])]),
        ]),
        dcc.Graph(id="quality-chart", config={"displaylogo": False}),
        html.Div(id="quality-detail"),
    ])


@callback(Output("quality-chart", "figure"), Output("quality-detail", "children"),
          Input("quality-partner", "value"))
def show_partner(partner_code: str):
    user = auth.viewer()
    cards = queries.partner_scorecards(user).set_index("partner_code")
    if partner_code not in cards.index:  # not this user's to see: nothing, whatever was asked
        return {}, html.P("No scorecard to show.", className="muted")
    name = cards.loc[partner_code, "partner_name"]
    scorecard = queries.submission_scorecard(user, partner_code)
    reasons = queries.quarantine_reasons(user, partner_code)
    rows_visible = user.may_see_partner_rows(partner_code)
    flags = queries.partner_flags(user, partner_code)
    if not rows_visible:
        reasons = reasons.drop(columns=["example_file"])
    missing = scorecard[scorecard["expected"] & ~scorecard["received"]]["report_period"].tolist()
    late = scorecard[scorecard["received"] & ~scorecard["on_time"]]
    detail = html.Div([
        html.P(html.A("Open this partner's feedback pack (HTML and CSV)",
                      href=f"/feedback/{partner_code}/index.html", target="_blank"))
        if rows_visible else html.P("Each partner's rows, files and feedback pack are seen "
                                    "only by the partner and the backbone's data team.",
                                    className="muted", id="quality-rows-private"),
        html.H4("Reports not received"),
        html.P(", ".join(missing) if missing else "None.", id="quality-missing"),
        html.H4("Reports received late"),
        html.P(", ".join(f"{r.report_period} ({int(r.days_late)} days)"
                         for r in late.itertuples()) or "None.", id="quality-late"),
        html.H4("Quarantined rows, by reason"),
        dash_table.DataTable(data=reasons.to_dict("records"),
                             columns=[{"name": c, "id": c} for c in reasons.columns],
                             style_cell={"textAlign": "left", "whiteSpace": "normal"}),
        *([html.H4("Values that look unusual"),
           dash_table.DataTable(id="quality-flags", data=flags.round(2).to_dict("records"),
                                columns=[{"name": c, "id": c} for c in flags.columns],
                                style_cell={"textAlign": "left", "whiteSpace": "normal"},
                                page_size=15)] if rows_visible else []),
    ])
    return scorecard_figure(name, scorecard), detail
