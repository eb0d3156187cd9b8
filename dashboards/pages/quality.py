"""Submission quality: every partner's scorecard, and one partner's in detail, for the partner
itself and for the steering committee deciding how far to trust the numbers."""

import dash
from dash import Input, Output, callback, dcc, html

from dashboards import auth, queries
from dashboards.components.format import format_count, format_percent, format_value
from dashboards.components.layout import not_published
from dashboards.components.scorecard_chart import scorecard_figure
from dashboards.components.tables import data_table, graph_config

dash.register_page(__name__, order=4, path="/quality", title="Submission quality",
                   name="Quality")

SCORECARD_COLUMNS = {"partner_name": "Partner", "score_text": "Score",
                     "completeness_text": "Completeness", "timeliness_text": "Timeliness",
                     "validity_text": "Validity", "plausibility_text": "Plausibility",
                     "flags": "Flags", "targets": "Targets met"}
REASON_COLUMNS = {"reason": "Reason", "rows_text": "Rows", "example_file": "For example in"}
ROW_COLUMNS = {"file_name": "File", "sheet": "Sheet", "row": "Row", "column_name": "Column",
               "written": "As written", "quarantine_reason": "Reason"}
FLAG_COLUMNS = {"period": "Period", "indicator": "Indicator", "place_name": "Place",
                "breakdown": "Breakdown", "shown": "Value", "expected": "Expected",
                "severity": "Severity", "description": "What it means", "where": "Where"}


def layout(partner: str | None = None, **_query):
    try:
        cards = queries.partner_scorecards(auth.viewer())
        initiative = queries.initiative()
    except queries.NotPublished:
        return not_published()
    codes = cards["partner_code"].tolist()
    chosen = partner if partner in codes else (codes[0] if codes else None)
    cards = cards.assign(
        # One decimal, as the feedback pack writes it (99.6, not a rounded 100).
        score_text=cards["score"].map(lambda v: format_value(v, 1)),
        completeness_text=cards["completeness"].map(format_percent),
        timeliness_text=cards["timeliness"].map(format_percent),
        validity_text=cards["validity"].map(format_percent),
        plausibility_text=cards["plausibility"].map(format_percent),
        flags=(cards["outliers"] + cards["consistency_flags"] + cards["relation_flags"])
        .map(format_count),
        targets=[("yes" if c and t else "no") for c, t in
                 zip(cards["meets_completeness_target"], cards["meets_timeliness_target"],
                     strict=True)])
    return html.Div([
        html.H2("Submission quality"),
        html.P(f"Each partner over its last {initiative['scorecard_reports']} expected reports. "
               "Completeness and timeliness "
               "targets follow the WHO Data Quality Review "
               f"({format_percent(initiative['completeness_target'])} and "
               f"{format_percent(initiative['timeliness_target'])}).", className="muted"),
        data_table(cards, SCORECARD_COLUMNS, table_id="partner-scorecards", sortable=True,
                   export="Submission quality by partner",
                   numeric=("score_text", "completeness_text", "timeliness_text",
                            "validity_text", "plausibility_text", "flags")),
        # A partner sees its own scorecard only: no choice to offer, its name instead.
        html.H3(cards.iloc[0]["partner_name"], id="quality-partner-name")
        if len(cards) == 1 else None,
        # (style, not the hidden attribute: .controls is a flex box, which shows a hidden one.)
        html.Div(className="controls", style={"display": "none"} if len(cards) <= 1 else None,
                 children=[
            html.Label(["Partner", dcc.Dropdown(
                id="quality-partner", clearable=False, value=chosen,
                options=[{"label": row["partner_name"], "value": row["partner_code"]}
                         for row in cards.to_dict("records")])]),
        ]),
        dcc.Graph(id="quality-chart", config=graph_config("Submission quality")),
        html.Div(id="quality-detail"),
    ])


@callback(Output("quality-chart", "figure"), Output("quality-detail", "children"),
          Input("quality-partner", "value"))
def show_partner(partner_code):
    user = auth.viewer()
    cards = queries.partner_scorecards(user).set_index("partner_code")
    if not isinstance(partner_code, str) or partner_code not in cards.index:
        return {}, html.P("No scorecard to show.", className="muted")  # not this user's
    name = cards.loc[partner_code, "partner_name"]
    scorecard = queries.submission_scorecard(user, partner_code)
    reasons = queries.quarantine_reasons(user, partner_code)
    rows_visible = user.may_see_partner_rows(partner_code)
    reasons = reasons.assign(rows_text=reasons["rows"].map(format_count))
    reason_columns = REASON_COLUMNS if rows_visible else {
        k: v for k, v in REASON_COLUMNS.items() if k != "example_file"}
    missing = scorecard[scorecard["expected"] & ~scorecard["received"]]["report_period"].tolist()
    late = scorecard[scorecard["received"] & ~scorecard["on_time"]]
    detail = [
        html.P(html.A("Open this partner's feedback pack (HTML and CSV)",
                      href=f"/feedback/{partner_code}/index.html", target="_blank"))
        if rows_visible else html.P("Each partner's rows, files and feedback pack are seen "
                                    "only by the partner and the backbone's data team.",
                                    className="muted", id="quality-rows-private"),
        html.H4("Reports not received"),
        html.P(", ".join(missing) if missing else "None.", id="quality-missing"),
        html.H4("Reports received late"),
        html.P(", ".join(f"{r.report_period} ({format_count(r.days_late)} days)"
                         for r in late.itertuples()) or "None.", id="quality-late"),
        html.H4("Quarantined rows, by reason"),
        data_table(reasons, reason_columns, table_id="quality-reasons", wide=("reason",),
                   numeric=("rows_text",), export=f"Quarantined rows by reason - {name}"),
    ]
    if rows_visible:
        detail += _rows_and_flags(user, partner_code)
    return scorecard_figure(name, scorecard), html.Div(detail)


def _rows_and_flags(user, partner_code: str) -> list:
    rows = queries.quarantined_rows(user, partner_code)
    if not rows.empty:
        rows = rows.assign(
            row=rows["row_number"].map(format_count), sheet=rows["sheet"].replace("", "-"),
            written=[" / ".join(part for part in (p, pl, i, v) if part)
                     for p, pl, i, v in zip(rows["period_text"].fillna(""),
                                            rows["place_text"].fillna(""),
                                            rows["indicator_text"].fillna(""),
                                            rows["value_text"].fillna(""), strict=True)])
    flags = queries.partner_flags(user, partner_code)
    if not flags.empty:
        names = queries.category_names()
        flags = flags.assign(
            breakdown=[queries.breakdown_label(key, names) for key in flags["disaggregation"]],
            shown=[format_value(v, d, u) for v, d, u in
                   zip(flags["value"], flags["decimals"], flags["unit_name"], strict=True)],
            expected=[f"{format_value(lo, d + 1)} to {format_value(hi, d + 1)}"
                      if lo == lo and lo is not None else "-" for lo, hi, d in
                      zip(flags["expected_low"], flags["expected_high"], flags["decimals"],
                          strict=True)],
            where=[f"{f}, row {format_count(r)}" if f else "-" for f, r in
                   zip(flags["file_name"].fillna(""), flags["row_number"], strict=True)])
    return [
        html.H4("Quarantined rows (the latest 200)"),
        data_table(rows, ROW_COLUMNS, table_id="quality-quarantined", page_size=15,
                   wide=("quarantine_reason",), numeric=("row",),
                   export=f"Quarantined rows - {partner_code}"),
        html.H4("Values that look unusual"),
        data_table(flags, FLAG_COLUMNS, table_id="quality-flags", page_size=15,
                   wide=("description",), numeric=("shown",),
                   export=f"Values that look unusual - {partner_code}"),
    ]
