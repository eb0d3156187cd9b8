"""Pipeline status, for the backbone's data team: the last run and how it went, how fresh each
partner's data is, the files that could not be read or mapped (with the reason the partner was
given and, for the data team, what the reader said), the checks that failed, and links into the
Dagster UI.

Admin only: the navigation hides it from other roles, and the layout and the callback check the
signed-in user again on the server (what the browser sends is never trusted).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dash
import pandas as pd
from dash import ALL, Input, Output, callback, ctx, dcc, html

from dashboards import auth, pipeline_queries
from dashboards.components.format import format_count, format_date, format_datetime
from dashboards.components.layout import not_published
from dashboards.components.tables import data_table
from dashboards.queries import NotPublished
from murmuration import review
from murmuration.paths import ProjectPaths

dash.register_page(__name__, order=6, path="/pipeline", name="Pipeline", title="Pipeline status",
                   allowed=lambda user: user.is_admin)

NOT_ALLOWED = "The pipeline status page is for the backbone's data team."
REFRESH_MS = 30_000


def layout(**_query):
    if not auth.viewer().is_admin:
        return html.P(NOT_ALLOWED, className="muted", id="pipeline-not-allowed")
    return html.Div(className="pipeline-page", children=[
        html.H2("Pipeline status"),
        html.P(["Runs, files and checks of this initiative's pipeline. Every run's steps, logs "
                "and asset checks are in the ",
                html.A("Dagster UI", href=pipeline_queries.dagster_url(), target="_blank",
                       id="pipeline-dagster-link"),
                " (on the machine that runs the pipeline)."], className="muted"),
        dcc.Interval(id="pipeline-refresh", interval=REFRESH_MS),
        dcc.Loading(html.Div(id="pipeline-content")),
    ])


@callback(Output("pipeline-content", "children"), Input("pipeline-refresh", "n_intervals"))
def show_status(_ticks):
    if not auth.viewer().is_admin:  # the callback answers only the backbone, whatever is asked
        return html.P(NOT_ALLOWED, className="muted", id="pipeline-not-allowed")
    try:
        published = pipeline_queries.published_at()
    except NotPublished:
        return html.Div([_last_run(None), not_published()])
    return html.Div([
        _last_run(published),
        html.H3("Freshness by partner"),
        html.P("When each partner's last file arrived, the latest period it has reported, the "
               "reports it owes (past their due date) and when the next one is due; judged as "
               "of the pipeline's last run.", className="muted"),
        _freshness(),
        html.H3("Held for review"),
        html.P(["Files that would remove most of what they replace (a complete return cut short, "
               "a correction read as a whole return), or leave a place that had values with "
               "none. Nothing of theirs is published until accepted; the rest of the run is. "
               "Accepting publishes the file with the next run, which starts within a minute "
               "(or: ", html.Code("murmuration accept FILE"), ")."], className="muted"),
        _held(),
        html.H3("Files that could not be read"),
        html.P("Kept as received (nothing is lost); the reason is what the partner sees. The "
               "technical detail is for the data team only.", className="muted"),
        _files_not_read(),
        html.H3("Files no mapping covers"),
        html.P(["Read, but nothing in them counts until a mapping covers them: draft one with ",
                html.Code("murmuration mapping suggest inbox/<folder>/<file>"), " and check it "
                "with ", html.Code("murmuration mapping check"), "."], className="muted"),
        _files_not_mapped(),
        html.H3("Failed checks"),
        _failed_checks(),
    ])


# --- the last run --------------------------------------------------------------------------------

def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _outcome(run) -> html.Span:
    return html.Span(run.outcome.capitalize(), id="pipeline-outcome",
                     className=f"run-outcome run-{run.status.lower()}",
                     **{"data-status": run.status})


def _plural(count: int, word: str) -> str:
    return f"{format_count(count)} {word}{'' if count == 1 else 's'}"


def _last_run(published: str | None):
    runs = pipeline_queries.runs(limit=10)
    if not runs:
        return html.Div(id="pipeline-last-run", children=[
            html.H3("Last run"),
            html.P("No run is recorded in this initiative's Dagster instance yet.",
                   className="muted")])
    last = runs[0]
    facts = [("Outcome", _outcome(last)), ("Job", last.job),
             ("Started", format_datetime(last.started)), ("Finished", format_datetime(last.ended)),
             ("Took", _duration(last.seconds))]
    if published and last.started:
        # Landing stamps the files it lands with a time inside the run (to the second).
        end = last.ended or datetime.now(UTC)
        files = pipeline_queries.files_in_window(last.started - timedelta(seconds=1),
                                                 end + timedelta(seconds=1))
        parts = [f"{format_count(files['landed'])} landed"]
        if files["unreadable"]:
            parts.append(f"{format_count(files['unreadable'])} could not be read")
        if files["ignored"]:
            parts.append(f"{format_count(files['ignored'])} set aside (not submissions)")
        facts.append(("New files", html.Span(
            f"{format_count(files['received'])}" + (f" ({', '.join(parts)})"
                                                     if files["received"] else ""),
            id="pipeline-run-files")))
        facts.append(("Quarantined", html.Span(
            f"{_plural(files['rows_quarantined'], 'row')} in "
            f"{_plural(files['files_with_quarantine'], 'file')} "
            f"({_plural(files['values_quarantined'], 'value')})", id="pipeline-run-quarantined")))
        facts.append(("Published snapshot", format_datetime(published)))
    failed_steps = pipeline_queries.step_failures(last.run_id)
    if failed_steps:
        facts.append(("Failed steps", ", ".join(failed_steps)))
    facts.append(("In Dagster", html.A("Open this run in the Dagster UI",
                                      href=pipeline_queries.run_link(last.run_id),
                                      target="_blank", id="pipeline-run-link")))
    notes = []
    if last.status == "FAILURE":
        notes.append(html.P("This run failed: the dashboard still shows the last snapshot "
                            "published by a good run. Open the run in Dagster for the step that "
                            "failed and its log.", className="notice", id="pipeline-run-failed"))
    recent = pd.DataFrame([{
        "started": format_datetime(run.started), "job": run.job,
        "outcome": run.outcome.capitalize(), "took": _duration(run.seconds),
        "link": f"[{run.run_id[:8]}]({pipeline_queries.run_link(run.run_id)})"} for run in runs])
    return html.Div(id="pipeline-last-run", children=[
        html.H3("Last run"),
        html.Dl(className="run-facts", children=[
            item for name, value in facts for item in (html.Dt(name), html.Dd(value))]),
        *notes,
        html.H4("Recent runs"),
        data_table(recent, {"started": "Started", "job": "Job", "outcome": "Outcome",
                            "took": "Took", "link": "Run in Dagster"},
                   table_id="pipeline-runs", links=("link",)),
    ])


# --- partners, files, checks -----------------------------------------------------------------------

def _freshness():
    frame = pipeline_queries.freshness()
    if not frame.empty:
        frame = frame.assign(
            last_arrival=frame["last_arrival"].map(format_datetime),
            last_file=frame["last_file"].fillna("-"),
            latest_period=frame["latest_period"].fillna("none yet"),
            days_since=frame["days_since"].map(format_count),
            owed=[("-" if not n else f"{format_count(n)} (latest {p})")
                  for n, p in zip(frame["reports_missing"], frame["last_missing"], strict=True)],
            next_due=frame["next_due"].map(format_date))
    return data_table(frame, {"partner_name": "Partner", "last_arrival": "Last file arrived",
                              "last_file": "Last file", "days_since": "Days since",
                              "latest_period": "Latest period reported",
                              "owed": "Reports overdue", "next_due": "Next report due"},
                      table_id="pipeline-freshness", numeric=("days_since",), sortable=True)


def _files_not_read():
    frame = pipeline_queries.files_not_read()
    not_files = pipeline_queries.inbox_not_files()
    if not not_files.empty:
        frame = pd.concat([not_files, frame], ignore_index=True) if not frame.empty else not_files
    if not frame.empty:
        frame = frame.assign(
            arrived=frame["arrived_at"].map(format_datetime),
            outcome=frame["landing_status"].map(
                {"unreadable": "could not be read",
                 "ignored": "set aside: not a submission",
                 "not_a_file": "ignored, never read: not a file"}).fillna(frame["landing_status"]),
            message=frame["message"].fillna("-"), detail=frame["detail"].fillna("-"))
    return data_table(frame, {"partner": "Partner", "inbox_path": "File",
                              "arrived": "Arrived", "outcome": "Outcome",
                              "message": "Reason given to the partner",
                              "detail": "Technical detail"},
                      table_id="pipeline-unreadable", wide=("message", "detail"),
                      empty="None: every file received was read.")


def _held():
    frame = pipeline_queries.files_held()
    if frame.empty:
        return html.P("None: no replacement is waiting for a look.", className="muted",
                      id="pipeline-held")
    decided = {e["submission_id"] for e in review.accepted(ProjectPaths.from_env())}
    rows = [html.Tr([html.Th("Partner"), html.Th("File"), html.Th("Arrived"),
                     html.Th("What it would do"), html.Th("")])]
    for row in frame.to_dict("records"):
        sid = row["submission_id"]
        action = (html.Span("Accepted: published by the next run", className="muted")
                  if sid in decided else
                  html.Button("Accept and publish", id={"type": "accept-held", "submission": sid},
                              className="button", n_clicks=0))
        rows.append(html.Tr([html.Td(row["partner"]), html.Td(row["inbox_path"]),
                             html.Td(format_datetime(row["arrived_at"])),
                             html.Td(row["held_reason"]), html.Td(action)]))
    return html.Div([html.Table(rows, className="table", id="pipeline-held"),
                     html.Div(id="pipeline-accepted")])


@callback(Output("pipeline-accepted", "children"),
          Input({"type": "accept-held", "submission": ALL}, "n_clicks"),
          prevent_initial_call=True)
def accept_held(clicks):
    """The backbone accepts a held file: recorded (murmuration.review) for the next run, which
    the review sensor starts. Admins only, whatever the browser sends."""
    user = auth.viewer()
    if not user.is_admin:
        return NOT_ALLOWED
    chosen = ctx.triggered_id
    if not isinstance(chosen, dict) or not any(clicks or []):
        return dash.no_update
    held = pipeline_queries.files_held()
    match = held[held["submission_id"] == chosen.get("submission")]
    if match.empty:
        return "That file is no longer held for review."
    row = match.iloc[0]
    review.accept(ProjectPaths.from_env(), [(row["submission_id"], row["inbox_path"])],
                  user.username)
    return (f"Accepted {row['inbox_path']}: the pipeline publishes it with its next run "
            "(within a minute while the pipeline is served).")


def _files_not_mapped():
    frame = pipeline_queries.files_not_mapped()
    if not frame.empty:
        frame = frame.assign(arrived=frame["arrived_at"].map(format_datetime),
                             mapping=frame["mapping_name"].fillna("none"),
                             message=frame["message"].fillna("-"))
    return data_table(frame, {"partner": "Partner", "inbox_path": "File", "arrived": "Arrived",
                              "mapping": "Mapping", "message": "Problem"},
                      table_id="pipeline-unmapped", wide=("message",),
                      empty="None: a mapping covers every file that was read.")


def _failed_checks():
    runs = pipeline_queries.runs(limit=1)
    checks = pd.DataFrame(pipeline_queries.failed_checks(runs[0].run_id)) if runs else \
        pd.DataFrame()
    if not checks.empty:
        checks = checks.assign(
            blocking=checks["blocking"].map({True: "yes: stops publishing",
                                             False: "no: a warning"}),
            link=[f"[{asset}]({pipeline_queries.asset_checks_link(path)})"
                  for asset, path in zip(checks["asset"], checks["asset_path"], strict=True)])
    expectations = pipeline_queries.failed_expectations()
    if not expectations.empty:
        expectations = expectations.assign(
            check=expectations["expectation_type"].map(pipeline_queries.expectation_text),
            column_name=expectations["column_name"].fillna("-"),
            condition=expectations["condition"].fillna("every value"),
            rows=expectations["unexpected_count"].map(format_count),
            examples=expectations["examples"].fillna("-"),
            blocking=expectations["blocking"].map({True: "yes", False: "no"}),
            file_name=expectations["file_name"].fillna("-"))
    return html.Div([
        html.H4("Asset checks that failed in the last run"),
        data_table(checks, {"link": "Asset", "check": "Check", "severity": "Severity",
                            "blocking": "Blocking"},
                   table_id="pipeline-checks", links=("link",)),
        html.H4("Great Expectations: values that failed an expectation"),
        html.P("Each new submission's values, validated against the suite built from the "
               "registry (the values themselves are quarantined or flagged with a reason).",
               className="muted"),
        data_table(expectations, {"partner": "Partner", "file_name": "File",
                                  "check": "Expectation", "column_name": "Column",
                                  "condition": "Where", "rows": "Values failing",
                                  "examples": "Examples", "blocking": "Blocking"},
                   table_id="pipeline-expectations", numeric=("rows",), page_size=15),
    ])
