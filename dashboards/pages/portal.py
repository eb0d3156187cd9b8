"""The partner portal: send a file, see what the pipeline would do with it before it counts,
confirm, and follow it until it is published; the partner's history, scorecard and pack.

A partner sees only its own; the backbone's data team chooses any partner and also sees every
file that could not be taken (its intake status). Every callback checks the signed-in user
again: what the browser sends is never trusted.
"""

from __future__ import annotations

import base64
import binascii
import logging

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboards import auth, queries
from dashboards.components.layout import not_published
from dashboards.components.scorecard_chart import scorecard_figure
from dashboards.components.tables import data_table, graph_config
from murmuration.access import User
from murmuration.intake.readers import ACCEPTED_EXTENSIONS
from murmuration.intake.reasons import READ_FORMATS
from murmuration.intake.upload import (
    MAX_UPLOAD_BYTES,
    UploadError,
    deliver,
    deliveries,
    stage,
    staged_file,
)
from murmuration.onboarding import isolated
from murmuration.paths import ProjectPaths

LOG = logging.getLogger(__name__)

dash.register_page(__name__, order=5, path="/portal", title="Partner portal", name="Portal",
                   allowed=lambda user: user.may_upload)

ACCEPT = ",".join(ACCEPTED_EXTENSIONS)  # every extension a reader reads (the one registry)
HISTORY_COLUMNS = ("File", "Received", "Status", "Accepted rows", "Quarantined rows", "Periods",
                   "Superseded by")
INTAKE_COLUMNS = ("Folder", "File", "Received", "Problem")


def _partners_for(user: User) -> list[dict]:
    """The partners this user may send files for, as dropdown options."""
    scope = user.partner_scope()
    return [{"label": row["partner_name"], "value": row["partner_code"]}
            for row in queries.partners().to_dict("records")
            if user.may_upload and (scope is None or row["partner_code"] in scope)]


def layout(partner: str | None = None, **_query):
    user = auth.viewer()
    if not user.may_upload:
        return html.P("The portal is for partners and the backbone's data team.",
                      className="muted")
    try:
        options = _partners_for(user)
    except queries.NotPublished:
        return not_published()
    codes = [o["value"] for o in options]
    chosen = partner if partner in codes else (codes[0] if codes else None)
    return html.Div([
        html.H2("Partner portal" + (f": {options[0]['label']}" if len(options) == 1 else "")),
        # One partner: its name in the title, no one-item choice (kept for the callbacks).
        html.Div(className="controls", style={"display": "none"} if len(options) <= 1 else None,
                 children=[
            html.Label(["Partner", dcc.Dropdown(id="portal-partner", options=options,
                                                value=chosen, clearable=False,
                                                disabled=len(options) == 1)]),
        ]),
        html.H3("Send a file"),
        html.P(f"{READ_FORMATS}, up to {MAX_UPLOAD_BYTES // 1048576} MB. You will "
               "see what the pipeline would do with it before it counts.", className="muted"),
        dcc.Upload(id="portal-upload", className="upload-zone", accept=ACCEPT,
                   max_size=MAX_UPLOAD_BYTES, multiple=False,
                   children=html.Div(["Drop a file here or ", html.A("choose one")])),
        dcc.Loading(html.Div(id="portal-check")),
        dcc.Store(id="portal-staged"),
        html.Button("Send this file", id="portal-confirm", disabled=True, n_clicks=0),
        html.Div(id="portal-sent"),
        html.H3("Your files"),
        html.P("Newest first. A file sent here shows 'waiting for the pipeline' until the next "
               "run has published it.", className="muted"),
        dcc.Interval(id="portal-refresh", interval=5000),
        html.Div(id="portal-history"),
        html.H3("Submission quality over time"),
        dcc.Graph(id="portal-scorecard", config=graph_config("Submission quality")),
        html.Div(id="portal-pack"),
        html.Div(id="portal-intake"),
    ])


def _allowed(user: User, partner_code: str | None) -> bool:
    return bool(partner_code) and user.may_upload and user.may_see_partner_rows(partner_code)


@callback(Output("portal-check", "children"), Output("portal-staged", "data"),
          Output("portal-confirm", "disabled"), Output("portal-sent", "children"),
          Input("portal-upload", "contents"), State("portal-upload", "filename"),
          State("portal-partner", "value"), prevent_initial_call=True)
def check_upload(contents: str | None, filename: str | None, partner_code: str | None):
    user = auth.viewer()
    if not _allowed(user, partner_code):
        return html.P("You cannot send files for this partner.", className="portal-not-ready"), \
            None, True, ""
    if not contents or not filename:
        return no_update, no_update, no_update, no_update
    try:
        content = base64.b64decode(contents.split(",", 1)[1], validate=True)
    except (IndexError, ValueError, binascii.Error):
        return html.P("The file could not be read from the browser; try again.",
                      className="portal-not-ready"), None, True, ""
    paths = ProjectPaths.from_env()
    try:
        token, staged = stage(paths, partner_code, filename, content)
    except UploadError as error:
        return html.P(f"{filename}: {error}.", className="portal-not-ready"), None, True, ""
    try:
        report = _check(paths, staged, partner_code)
    except isolated.CheckNotDone as error:
        LOG.warning("portal check of %s for %s not done: %s", staged, partner_code, error.detail)
        return html.P(f"{filename}: {error}.", className="portal-not-ready",
                      id="portal-not-checked"), None, True, ""
    if report.mapping_name is None:
        message = (f"{staged.name}: no agreed format (mapping) covers files like this one from "
                   "your organisation, so nothing in it would count. Send it in the agreed "
                   "template, or ask the backbone's data team to add a mapping for it.")
        return html.Div([html.P(message, className="portal-not-ready",
                                id="portal-no-mapping")]), None, True, ""
    periods = sorted({p for p, *_ in report.periods if p != "(none)"})
    replaced = queries.current_values_in(user, partner_code, periods)
    verdict = (html.P("Ready: every row that carries values would be accepted.",
                      className="portal-ready") if report.ready else
               html.P("Some rows would be quarantined (see the reasons). You can still send "
                      "it: accepted rows count, quarantined rows come back in your feedback "
                      "pack.", className="portal-not-ready"))
    children = [
        html.H4(f"What the pipeline would do with {staged.name}"),
        verdict,
        html.Pre("\n".join(report.lines()), className="check-report", id="portal-report"),
        html.H4("What it would replace"),
        html.P("Values already published for the same periods (the newest file for a period "
               "replaces the values it gives again):", className="muted")
        if not replaced.empty else html.P("Nothing published yet for its periods: it adds "
                                          "to what you have sent.", className="muted"),
        data_table(replaced, {c: c for c in replaced.columns}, table_id="portal-replaces",
                   export=f"What {staged.name} would replace")
        if not replaced.empty else html.Div(),
    ]
    return html.Div(children), {"token": token, "partner": partner_code}, False, ""


def _check(paths: ProjectPaths, staged, partner_code: str):
    """What the pipeline would do with the file, worked out in a worker process with a memory
    cap (murmuration/onboarding/isolated.py): a hostile file ends the worker, not the server."""
    return isolated.check_upload(paths, staged, partner_code)


@callback(Output("portal-sent", "children", allow_duplicate=True),
          Output("portal-confirm", "disabled", allow_duplicate=True),
          Output("portal-staged", "data", allow_duplicate=True),
          Output("portal-check", "children", allow_duplicate=True),
          Input("portal-confirm", "n_clicks"), State("portal-staged", "data"),
          prevent_initial_call=True)
def confirm(n_clicks: int, staged: dict | None):
    user = auth.viewer()
    if not n_clicks or not staged:
        return no_update, True, no_update, no_update
    partner_code = staged.get("partner")
    if not _allowed(user, partner_code):
        return html.P("You cannot send files for this partner.", className="portal-not-ready"), \
            True, None, no_update
    paths = ProjectPaths.from_env()
    try:
        staged_file(paths, partner_code, staged.get("token", ""))
        delivery = deliver(paths, partner_code, staged["token"], user.username)
    except UploadError as error:
        return html.P(str(error), className="portal-not-ready"), True, None, no_update
    if delivery.already_received:
        text = (f"{delivery.file_name} was already received with exactly these contents; "
                "nothing new was sent.")
    else:
        text = (f"Sent: {delivery.file_name}. The pipeline picks it up at its next run; its "
                "status is below.")
    return html.P(text, id="portal-sent-message", className="portal-ready"), True, None, ""


def _history(user: User, partner_code: str) -> html.Div:
    paths = ProjectPaths.from_env()
    try:
        published = queries.partner_submissions(user, partner_code)
    except queries.NotPublished:
        return not_published()
    known = set(published["sha256"])
    waiting = [d for d in deliveries(paths, partner_code) if d.sha256 not in known]
    rows = [{"File": d.file_name, "Received": d.delivered_at.replace("T", " ")[:16],
             "Status": "waiting for the pipeline", "Accepted rows": "", "Quarantined rows": "",
             "Periods": "", "Superseded by": ""} for d in waiting]
    names = dict(zip(published["submission_id"], published["file_name"], strict=True))
    published = published.astype(object).where(published.notna(), None)
    for row in published.to_dict("records"):
        status = row["landing_status"]
        if status == "landed" and not row["mapping_name"]:
            status = ("not taken: no agreed format (mapping) covers this file, so nothing in "
                      "it counts; the backbone's data team has been shown it")
        elif status == "landed" and row["message"]:
            status = f"landed: {row['message']}"
        elif status != "landed":
            status = f"{status}: {row['message'] or ''}".strip(": ")
        elif row["superseded_by"]:
            status = "replaced by a newer file"
        else:
            status = "published"
        periods = (row["first_period"] if row["first_period"] == row["last_period"]
                   else f"{row['first_period']}..{row['last_period']}") \
            if row["first_period"] else ""
        rows.append({"File": row["file_name"], "Received": str(row["arrived_at"])[:16],
                     "Status": status, "Accepted rows": row["rows_accepted"],
                     "Quarantined rows": row["rows_quarantined"], "Periods": periods,
                     "Superseded by": names.get(row["superseded_by"], row["superseded_by"])
                     or ""})
    frame = pd.DataFrame(rows, columns=HISTORY_COLUMNS)
    return data_table(frame, {c: c for c in HISTORY_COLUMNS}, table_id="portal-history-table",
                      page_size=12, numeric=("Accepted rows", "Quarantined rows"),
                      empty="No files yet.", export=f"Files sent - {partner_code}")


@callback(Output("portal-history", "children"), Input("portal-partner", "value"),
          Input("portal-refresh", "n_intervals"), Input("portal-sent", "children"))
def show_history(partner_code: str | None, _ticks, _sent):
    user = auth.viewer()
    if not _allowed(user, partner_code):
        return html.P("Nothing to show.", className="muted")
    return _history(user, partner_code)


@callback(Output("portal-intake", "children"), Input("portal-refresh", "n_intervals"))
def show_intake(_ticks):
    """The backbone's intake status: every file, any partner, that could not be taken."""
    user = auth.viewer()
    if not user.is_admin:
        return ""
    try:
        files = queries.partner_submissions(user, None)
    except queries.NotPublished:
        return ""
    stuck = files[(files["landing_status"] == "unreadable") | files["mapping_name"].isna()
                  & (files["landing_status"] == "landed")]
    rows = [{"Folder": r["folder"], "File": r["file_name"], "Received": str(r["arrived_at"])[:16],
             "Problem": r["message"] if r["landing_status"] != "landed" else
             "no mapping covers this file (murmuration mapping suggest / check)"}
            for r in stuck.to_dict("records")]
    return html.Div([
        html.H3("Intake status: files that could not be taken (all partners)"),
        data_table(pd.DataFrame(rows, columns=INTAKE_COLUMNS),
                   {c: c for c in INTAKE_COLUMNS}, table_id="portal-intake-table",
                   wide=("Problem",), export="Files that could not be taken",
                   empty="None: every file received was read and mapped."),
    ])


@callback(Output("portal-scorecard", "figure"), Output("portal-pack", "children"),
          Input("portal-partner", "value"))
def show_partner(partner_code: str | None):
    user = auth.viewer()
    if not _allowed(user, partner_code):
        return {}, ""
    try:
        cards = queries.partner_scorecards(user).set_index("partner_code")
        scorecard = queries.submission_scorecard(user, partner_code)
    except queries.NotPublished:
        return {}, ""
    name = cards.loc[partner_code, "partner_name"] if partner_code in cards.index else \
        partner_code
    pack = html.P([
        html.A("Your feedback pack", href=f"/feedback/{partner_code}/index.html",
               target="_blank", id="portal-pack-link"), " (accepted values, quarantined rows "
        "with reasons, flags, scorecard) - ",
        html.A("download your quarantined rows (CSV)",
               href=f"/feedback/{partner_code}/quarantined.csv", id="portal-quarantined-csv"),
    ])
    return scorecard_figure(name, scorecard), pack
