"""What changed: new submissions, revised totals, statuses, milestones reached or missed, flags
raised and resolved and reports newly late, since the previous run or an earlier snapshot.

The current snapshot is the published serving file; earlier ones are the records the pipeline
keeps in ``<state>/history`` (murmuration.digest). What a role sees is cut on the server
(``digest.scoped``): the backbone sees file names and each flag; the steering committee and
working groups see totals, statuses, flags as counts and each partner's reports, a working
group only its groups' indicators. Partners do not get this page.
"""

from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, callback, dcc, html, no_update

from dashboards import auth, queries
from dashboards.components.format import DATE_PICKER_FORMAT, format_datetime
from dashboards.components.layout import not_published
from dashboards.components.tables import data_table
from murmuration import digest
from murmuration.access import Role, User

dash.register_page(__name__, order=2, path="/changes", name="What changed",
                   title="What changed since the last run",
                   allowed=lambda user: user.role is not Role.PARTNER)


def _state_dir():
    return queries.serving_path().parent


def _current() -> digest.Snapshot:
    path = queries.serving_path()
    if not path.exists():
        raise queries.NotPublished(str(path))
    return digest.read_snapshot(path)


def _earlier(current: digest.Snapshot) -> list[dict]:
    """Kept snapshots published before the current one, newest first."""
    return [s for s in reversed(digest.list_snapshots(_state_dir())) if s["key"] < current.key]


def _options(earlier: list[dict]) -> list[dict]:
    return [{"label": format_datetime(s["published_at"])
             + (" (the previous run)" if n == 0 else ""), "value": s["key"]}
            for n, s in enumerate(earlier)]


def layout(since: str | None = None, **_query):
    user = auth.viewer()
    if user.role is Role.PARTNER:
        return html.P("This page is for the steering committee, the working groups and the "
                      "backbone's data team.", className="muted")
    try:
        current = _current()
    except queries.NotPublished:
        return not_published()
    earlier = _earlier(current)
    chosen = earlier[0]["key"] if earlier else None
    if since and any(s["key"] == since for s in earlier):
        chosen = since
    elif since:
        try:
            chosen = digest.key_for_date(earlier, pd.Timestamp(since), current.key) or chosen
        except ValueError:
            pass
    digest_link = []
    if user.is_admin:
        latest = digest.digest_dir(_state_dir()) / "latest.html"
        digest_link = [html.P(id="changes-digest", className="muted", children=[
            html.A("Open the e-mail digest of the last run", href="/digest/latest.html",
                   target="_blank"),
            f" (written by the pipeline to {latest}; it shows what the steering committee "
            "may see: no file names, flags as counts)."])]
    return html.Div(className="changes-page", children=[
        html.H2("What changed"),
        html.P([f"In the snapshot published {format_datetime(current.published_at)}, compared "
                "with an earlier one (the previous run unless you choose)."],
               className="muted"),
        html.Div(className="controls changes-controls", children=[
            html.Label(["Since the snapshot published", dcc.Dropdown(
                id="changes-since", options=_options(earlier), value=chosen, clearable=False,
                placeholder="No earlier snapshot kept")]),
            html.Label(["or since a date", dcc.DatePickerSingle(
                id="changes-since-date", display_format=DATE_PICKER_FORMAT,
                placeholder="Choose a day", clearable=True)]),
        ]),
        *digest_link,
        dcc.Loading(html.Div(id="changes-content", children=_content(user, current, chosen))),
    ])


@callback(Output("changes-since", "value"), Input("changes-since-date", "date"),
          prevent_initial_call=True)
def since_date(day: str | None):
    """A day chosen: the latest snapshot published before that day began."""
    if not day:
        return no_update
    current = _current()
    return digest.key_for_date(_earlier(current), pd.Timestamp(day), current.key) or no_update


@callback(Output("changes-content", "children"), Input("changes-since", "value"),
          prevent_initial_call=True)
def show_changes(key: str | None):
    user = auth.viewer()
    if user.role is Role.PARTNER:
        return html.P("Nothing to show.", className="muted")
    try:
        current = _current()
    except queries.NotPublished:
        return not_published()
    return _content(user, current, key)


def _content(user: User, current: digest.Snapshot, key: str | None) -> list:
    # Only a kept snapshot older than the current one, whatever the browser sent.
    known = {s["key"] for s in _earlier(current)}
    previous = digest.load_snapshot(_state_dir(), key) if key in known else None
    if previous is None:
        return [html.P("No earlier snapshot is kept yet: from the next run on, this page shows "
                       "what changed.", className="notice", id="changes-headline")]
    changes = digest.scoped(digest.compute_changes(previous, current),
                            file_names=user.is_admin, flag_rows=user.is_admin,
                            groups=user.indicator_groups())
    body = [html.P(digest.headline(changes), id="changes-headline", className="changes-headline")]
    if user.indicator_groups() is not None:
        body.append(html.P("Indicators of your working groups only; new submissions and "
                           "reports are every partner's.", className="muted"))
    if changes.nothing:
        return body  # the headline says "Nothing new since ...", once (not once a section)
    for section in digest.sections(changes):
        frame = pd.DataFrame(section.rows, columns=list(section.columns))
        body.append(html.Section(id=f"changes-{section.key}", className="changes-section",
                                 children=[
            html.H3(section.title),
            data_table(frame, section.columns, table_id=f"changes-{section.key}-table",
                       empty=section.empty, numeric=section.numeric, page_size=20,
                       wide=tuple(c for c in ("why", "note", "by") if c in section.columns)),
            *([html.P(section.note, className="muted")] if section.note else []),
        ]))
    return body
