"""An address that is no page of the dashboard: say so, with the way back (never a blank page).
Dash shows this module's layout for any unknown path (its name is Dash's convention)."""

from __future__ import annotations

import dash
from dash import html

dash.register_page(__name__, path="/404", title="Page not found", name="Page not found",
                   allowed=lambda _user: False)  # never in the navigation


def layout(**_query):
    return html.Div(id="page-not-found", children=[
        html.H2("No such page"),
        html.P("This address is not a page of the dashboard (a link may be out of date).",
               className="muted"),
        html.P([html.A("Back to the overview", href="/"), " - or choose a page above."]),
    ])
