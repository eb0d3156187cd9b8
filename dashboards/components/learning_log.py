"""The learning log on the dashboard: the notes a user may read (for chart markers and lists) and
a section with the list and, for who may write, a small form to add a note.

The notes live in ``ProjectPaths.from_env().learning_log`` (SQLite, outside the warehouse; see
``murmuration.learning_log``). Every callback asks ``auth.viewer()`` again and the store checks the
role's rule: what the browser sends (the indicator, the place) is never trusted.

For a page that shows one indicator (the milestones page)::

    from dashboards.components.learning_log import NOTES_CHANGED, notes_frame, notes_section

    notes_section(indicator_code, place_code, user)   # a Div: the list and the form
    notes_frame(indicator_code, place_code, user)     # noted_on, text, author, scope, ...

and ``Input(NOTES_CHANGED, "data")`` in the chart's callback redraws its markers after a note is
added. One section per page: its element ids are fixed.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass

import pandas as pd
from dash import Input, Output, State, callback, dcc, html, no_update

from dashboards import auth
from dashboards.components.format import DATE_PICKER_FORMAT, format_date, today
from dashboards.components.tables import data_table
from murmuration.access import User
from murmuration.learning_log import LearningLog, Note, NoteCodes, NoteError
from murmuration.paths import ProjectPaths
from murmuration.registry import RegistryError, load_registry
from murmuration.registry.models import WHOLE_AREA

SECTION = "learning-log-section"
CONTEXT = "learning-log-context"  # {"indicator": code or None, "place": code or None}
NOTES_CHANGED = "learning-log-changed"  # the id of the last note added here
LIST = "learning-log-list"
TABLE = "learning-log-table"
FORM = "learning-log-form"
DATE = "learning-log-date"
TEXT = "learning-log-text"
WHOLE = "learning-log-whole"
WHOLE_BOX = "learning-log-whole-box"
ADD = "learning-log-add"
MESSAGE = "learning-log-message"
TARGET = "learning-log-target"
HINT = "learning-log-hint"

FRAME_COLUMNS = ["id", "noted_on", "text", "author", "author_role", "scope", "indicator_code",
                 "place_code", "created_at"]
LIST_COLUMNS = {"date": "Date", "text": "Note", "scope": "About", "author": "By"}


# The registry's codes and names, read again only when its files change -----------------------
@dataclass(frozen=True)
class Names:
    codes: NoteCodes
    indicators: dict[str, str]  # code -> short name
    working_groups: dict[str, str]  # indicator code -> its working group's name
    places: dict[str, str]  # code -> name


_cache: dict = {}
_cache_lock = threading.Lock()


def _registry_key(paths: ProjectPaths) -> tuple:
    files = [paths.initiative_file, *sorted(paths.registry_dir.glob("*.y*ml")),
             *sorted(paths.mappings_dir.glob("*.y*ml"))]
    key = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        key.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(key)


def names() -> Names:
    """Codes and names from the initiative's registry (cached until its files change; while
    they do not load, the last good ones)."""
    paths = ProjectPaths.from_env()
    key = _registry_key(paths)
    with _cache_lock:
        if _cache.get("key") == key:
            return _cache["names"]
        try:
            registry = load_registry(paths)
        except RegistryError:
            if "names" in _cache:
                return _cache["names"]
            raise NoteError("the initiative's definitions have problems (murmuration check "
                            "lists them); notes cannot be checked until they are fixed") from None
        groups = {g.code: g.name for g in registry.catalogue.working_groups}
        loaded = Names(
            codes=NoteCodes.from_registry(registry),
            indicators={i.code: i.short_name or i.name for i in registry.catalogue.indicators},
            working_groups={i.code: groups.get(i.working_group, i.working_group)
                            for i in registry.catalogue.indicators},
            places={p.code: p.name for p in registry.dimensions.places})
        _cache.update(key=key, names=loaded)
        return loaded


def learning_log() -> LearningLog:
    """The learning log of the initiative this dashboard serves."""
    return LearningLog.for_project(ProjectPaths.from_env(), names().codes)


def scope_label(note: Note, known: Names) -> str:
    """'Children enrolled, Eastfield', 'Children enrolled', 'Whole initiative'."""
    what = ("Whole initiative" if note.indicator_code is None
            else known.indicators.get(note.indicator_code, note.indicator_code))
    if note.place_code is None:
        return what
    return f"{what}, {known.places.get(note.place_code, note.place_code)}"


# What the pages call ------------------------------------------------------------------------
def _place(place_code: str | None) -> str | None:
    return None if place_code in (None, "", WHOLE_AREA) else place_code


def notes_frame(indicator_code: str | None, place_code: str | None, user: User) -> pd.DataFrame:
    """The notes ``user`` may read on this indicator (with the whole initiative's) at this place
    (with those on all places), newest first: noted_on (a Timestamp, for chart markers), text,
    author, scope (a label: 'Children enrolled, Eastfield', 'Whole initiative'), and id,
    author_role, indicator_code, place_code, created_at. ``indicator_code`` None: every note the
    user may read; ``place_code`` None or the whole area's code: every place. Empty when the
    user may not read this indicator's notes (partners: never) or the registry does not load."""
    empty = pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "noted_on" else object)
                          for c in FRAME_COLUMNS})
    if not user.may_read_notes:
        return empty
    try:
        known = names()
    except NoteError:  # the registry does not load: no markers rather than a broken page
        return empty
    log = LearningLog.for_project(ProjectPaths.from_env(), known.codes)
    if indicator_code and not user.may_read_note(known.codes.working_group(indicator_code)):
        return empty
    try:
        notes = log.list(indicator_code or None, _place(place_code), user=user)
    except NoteError:  # an unknown indicator or place code
        return empty
    if not notes:
        return empty
    frame = pd.DataFrame([{
        "id": n.id, "noted_on": pd.Timestamp(n.noted_on), "text": n.text, "author": n.author,
        "author_role": n.author_role, "scope": scope_label(n, known),
        "indicator_code": n.indicator_code, "place_code": n.place_code,
        "created_at": pd.Timestamp(n.created_at)} for n in notes], columns=FRAME_COLUMNS)
    return frame


def notes_table(frame: pd.DataFrame):
    """The notes as the dashboard's table: date, note, what it is about, who wrote it."""
    shown = pd.DataFrame({
        "date": [format_date(v) for v in frame["noted_on"]],
        "text": frame["text"].tolist(),
        "scope": frame["scope"].tolist(),
        "author": frame["author"].tolist(),
    })
    return data_table(shown, LIST_COLUMNS, table_id=TABLE, page_size=15, wide=("text",),
                      empty="No notes yet.")


@dataclass(frozen=True)
class FormState:
    hidden: bool  # the user may write nothing here
    whole_options: list[dict]
    whole_value: list[str]
    whole_hidden: bool
    target: str  # what a note added now is about
    hint: str = ""  # why there is no form


def form_state(user: User, indicator_code: str | None, place_code: str | None) -> FormState:
    known = names()
    log = LearningLog.for_project(ProjectPaths.from_env(), known.codes)
    on_indicator = bool(indicator_code) and log.may_write(user, indicator_code)
    on_whole = user.may_write_initiative_notes
    place = _place(place_code)
    where = f", {known.places.get(place, place)}" if place in known.places else ""
    if on_indicator:
        return FormState(False, [{"label": " Whole initiative", "value": "whole"}], [],
                         not on_whole,
                         f"{known.indicators.get(indicator_code, indicator_code)}{where}")
    if on_whole:  # no indicator chosen: a note on the whole initiative
        return FormState(False, [{"label": " Whole initiative", "value": "whole",
                                  "disabled": True}], ["whole"], False,
                         f"the whole initiative{where}")
    hint = ("To add a note, choose one of your working groups' indicators."
            if user.working_groups and user.may_write_notes else "")
    return FormState(True, [], [], True, "", hint)


def notes_section(indicator_code: str | None, place_code: str | None, user: User,
                  heading: str | None = "Learning log") -> html.Div:
    """The notes on this indicator and place (see ``notes_frame``) and, for a user who may write
    here, a form: date, text, 'whole initiative', Add. Nothing for a partner."""
    if not user.may_read_notes:
        # Every id the section's callbacks use is on the page, hidden and empty, so the
        # page's other callbacks (the chart listens to NOTES_CHANGED) work for every role.
        return html.Div(id=SECTION, hidden=True, children=_skeleton(indicator_code, place_code))
    try:
        frame = notes_frame(indicator_code, place_code, user)
        state = form_state(user, indicator_code, place_code)
    except NoteError as error:
        return html.Div(id=SECTION, children=[html.P(str(error), className="muted"),
                                              *_skeleton(indicator_code, place_code)])
    return html.Div(id=SECTION, className="learning-log", children=[
        html.H3(heading) if heading else None,
        html.P("Dated notes on what happened (an enrolment drive, a data system change, a "
               "closure), so the figures can be read with it in mind.", className="muted")
        if heading else None,
        dcc.Store(id=CONTEXT, data={"indicator": indicator_code or None,
                                    "place": _place(place_code)}),
        dcc.Store(id=NOTES_CHANGED, data=None),
        html.Div(id=LIST, children=notes_table(frame)),
        html.P(state.hint, id=HINT, className="muted"),
        html.Div(id=FORM, className="learning-log-form", hidden=state.hidden, children=[
            html.H4("Add a note"),
            html.Div(className="learning-log-fields", children=[
                html.Label(className="learning-log-day", children=[
                    "Date", dcc.DatePickerSingle(
                        id=DATE, date=today().isoformat(), display_format=DATE_PICKER_FORMAT,
                        clearable=False)]),
                html.Label(className="learning-log-text", children=[
                    "Note", dcc.Input(id=TEXT, type="text", maxLength=1000, debounce=False,
                                      placeholder="What happened, in one line")]),
                html.Div(id=WHOLE_BOX, hidden=state.whole_hidden, children=dcc.Checklist(
                    id=WHOLE, options=state.whole_options, value=state.whole_value)),
                html.Button("Add", id=ADD, n_clicks=0, type="button"),
            ]),
            html.P(["This note will be about: ", html.Span(state.target, id=TARGET)],
                   className="muted"),
            html.Div(id=MESSAGE, role="status"),
        ]),
    ])


def _skeleton(indicator_code: str | None, place_code: str | None) -> list:
    """The section's ids with nothing in them (a role that does not read the log)."""
    return [dcc.Store(id=CONTEXT, data={"indicator": indicator_code or None,
                                        "place": _place(place_code)}),
            dcc.Store(id=NOTES_CHANGED, data=None), html.Div(id=LIST), html.P(id=HINT),
            html.Div(id=FORM, hidden=True, children=[
                dcc.DatePickerSingle(id=DATE), dcc.Input(id=TEXT, type="text"),
                html.Div(id=WHOLE_BOX, hidden=True, children=dcc.Checklist(id=WHOLE, options=[])),
                html.Button("Add", id=ADD, n_clicks=0, type="button", disabled=True),
                html.Span(id=TARGET), html.Div(id=MESSAGE)])]


# Callbacks ------------------------------------------------------------------------------------
def _context(data) -> tuple[str | None, str | None]:
    if not isinstance(data, dict):
        return None, None
    indicator, place = data.get("indicator"), data.get("place")
    return (indicator if isinstance(indicator, str) and indicator else None,
            place if isinstance(place, str) and place else None)


@callback(Output(LIST, "children"), Input(CONTEXT, "data"), Input(NOTES_CHANGED, "data"),
          prevent_initial_call=True)
def refresh_notes(context, _changed):
    user = auth.viewer()
    if not user.may_read_notes:
        return None
    indicator, place = _context(context)
    try:
        return notes_table(notes_frame(indicator, place, user))
    except NoteError as error:
        return html.P(str(error), className="muted")


@callback(Output(FORM, "hidden"), Output(WHOLE, "options"), Output(WHOLE, "value"),
          Output(WHOLE_BOX, "hidden"), Output(TARGET, "children", allow_duplicate=True),
          Output(HINT, "children"),
          Output(MESSAGE, "children", allow_duplicate=True),
          Input(CONTEXT, "data"), prevent_initial_call=True)
def refresh_form(context):
    user = auth.viewer()
    if not user.may_read_notes:
        return True, [], [], True, "", "", ""
    indicator, place = _context(context)
    try:
        state = form_state(user, indicator, place)
    except NoteError as error:
        return True, [], [], True, "", "", str(error)
    return state.hidden, state.whole_options, state.whole_value, state.whole_hidden, \
        state.target, state.hint, ""


@callback(Output(TARGET, "children"), Input(WHOLE, "value"), State(CONTEXT, "data"),
          prevent_initial_call=True)
def show_target(whole, context):
    """What a note added now would be about, as the 'whole initiative' box is ticked."""
    user = auth.viewer()
    indicator, place = _context(context)
    if isinstance(whole, list) and "whole" in whole:
        indicator = None
    try:
        return form_state(user, indicator, place).target
    except NoteError as error:
        return str(error)


def _message(text: str, ok: bool) -> html.P:
    return html.P(text, className="learning-log-ok" if ok else "learning-log-error",
                  id="learning-log-result")


@callback(Output(MESSAGE, "children"), Output(NOTES_CHANGED, "data"), Output(TEXT, "value"),
          Input(ADD, "n_clicks"), State(DATE, "date"), State(TEXT, "value"),
          State(WHOLE, "value"), State(CONTEXT, "data"), prevent_initial_call=True)
def add_note(n_clicks, noted_on, text, whole, context):
    """Add the note as the signed-in user; their role is checked again here and in the store.
    Whatever is wrong comes back as a message."""
    if not n_clicks:
        return no_update, no_update, no_update
    user = auth.viewer()
    indicator, place = _context(context)
    if isinstance(whole, list) and "whole" in whole:
        indicator = None
    if not user.may_read_notes:
        return _message("You cannot write in the learning log.", False), no_update, no_update
    try:
        note = learning_log().add(user, noted_on, text if text is not None else "", indicator,
                                  place)
    except NoteError as error:
        return _message(f"Not added: {error}.", False), no_update, no_update
    except sqlite3.Error:
        return _message("The learning log is busy or cannot be written just now; try again.",
                        False), no_update, no_update
    return _message(f"Added your note of {format_date(note.noted_on)} on "
                    f"{scope_label(note, names())}.", True), note.id, ""
