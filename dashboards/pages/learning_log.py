"""The learning log: every note the signed-in user may read, newest first, by indicator and
place, and the form to add one (for who may write). Not for partners."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

from dashboards import auth
from dashboards.components.learning_log import CONTEXT, names, notes_section
from murmuration.access import Role, User
from murmuration.learning_log import NoteError
from murmuration.registry.models import WHOLE_AREA

dash.register_page(__name__, order=3, path="/learning-log", title="Learning log", name="Learning log",
                   allowed=lambda user: user.role != Role.PARTNER)

ALL = ""


def _indicator_options(user: User) -> list[dict]:
    known = names()
    return [{"label": "All indicators (and the whole initiative)", "value": ALL}] + [
        {"label": f"{name} ({known.working_groups[code]})", "value": code}
        for code, name in known.indicators.items()
        if user.may_read_note(known.codes.working_group(code))]


def layout(indicator: str | None = None, place: str | None = None, **_query):
    user = auth.viewer()
    if not user.may_read_notes:
        return html.P("The learning log is for the steering committee, the working groups and "
                      "the backbone's data team.", className="muted", id="learning-log-denied")
    try:
        options = _indicator_options(user)
        places = names().places
    except NoteError as error:
        return html.P(str(error), className="muted")
    chosen = indicator if indicator in {o["value"] for o in options} else ALL
    chosen_place = place if place in places else WHOLE_AREA
    return html.Div([
        html.H2("Learning log"),
        html.P("Dated notes on the indicators and on the whole initiative: what happened, so "
               "the figures can be read with it in mind. Choosing an indicator shows its notes "
               "and the whole initiative's; choosing a place, its notes and those on every "
               "place. The notes also appear as markers on the milestone charts.",
               className="muted"),
        html.Div(className="controls", children=[
            html.Label(["Indicator", dcc.Dropdown(id="learning-log-indicator", options=options,
                                                  value=chosen, clearable=False)]),
            html.Label(["Place", dcc.Dropdown(
                id="learning-log-place", clearable=False, value=chosen_place,
                options=[{"label": "All places", "value": WHOLE_AREA}]
                + [{"label": name, "value": code} for code, name in places.items()])]),
        ]),
        notes_section(chosen or None, chosen_place, user, heading=None),
    ])


@callback(Output(CONTEXT, "data"), Input("learning-log-indicator", "value"),
          Input("learning-log-place", "value"), prevent_initial_call=True)
def choose(indicator: str | None, place: str | None):
    """What the list shows and what a note added here is about (checked again when used)."""
    return {"indicator": indicator or None,
            "place": None if place in (None, "", WHOLE_AREA) else place}
