"""The Dash app: pages under dashboards/pages, reading only the published serving file."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import dash
from dash import Dash, dcc, html

from dashboards import auth, queries
from murmuration.paths import feedback_dir_beside
from murmuration.processes import stoppable

HERE = Path(__file__).parent
PARTNER_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def create_app() -> Dash:
    # Named after the package, so Dash imports the pages as dashboards.pages.<name>: the same
    # modules the tests and the rest of the code import (not a second copy as pages.<name>).
    app = Dash("dashboards", use_pages=True, pages_folder=str(HERE / "pages"),
               assets_folder=str(HERE / "assets"), title="Murmuration",
               suppress_callback_exceptions=True)
    auth.install(app.server)
    _serve_feedback_packs(app)
    _serve_digest(app)
    app.layout = _layout
    return app


def _layout():
    """Built per request: the navigation shows the pages the signed-in user's role opens."""
    from flask_login import current_user
    from flask_wtf.csrf import generate_csrf

    if not current_user.is_authenticated:  # Dash checks the layout at start-up, signed out
        return html.Div([html.Main(dash.page_container)])
    user = auth.viewer()
    name, role = auth.signed_in_as()
    pages = [page for page in dash.page_registry.values()
             if page.get("allowed", lambda _user: True)(user)]
    return html.Div([
        html.Header(className="top", children=[
            html.H1(id="initiative-name", children=_initiative_name()),
            html.Nav([dcc.Link(page["name"], href=page["relative_path"], className="nav-link")
                      for page in pages]),
            html.Form(className="signed-in", action="/logout", method="POST", children=[
                html.Span(f"{name} ({role})", id="signed-in-as"),
                dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
                html.Button("Sign out", id="sign-out", type="submit"),
            ]),
        ]),
        html.Main(dash.page_container),
    ])


def _serve_feedback_packs(app: Dash) -> None:
    """Partners' feedback packs (written by the pipeline next to the serving file): a partner
    its own, the backbone every one; anyone else is refused (403) and gets nothing of it."""
    from flask import Response, abort, send_from_directory

    # The folder's own address opens its index (the pack's links are relative to the folder;
    # Flask sends "/feedback/<partner>" on to the address with the slash). Its own view, not
    # a rule default: Flask would send ".../index.html" back to the folder's address.
    @app.server.route("/feedback/<partner>/")
    def feedback_folder(partner: str):
        return feedback(partner, "index.html")

    @app.server.route("/feedback/<partner>/<path:name>")
    def feedback(partner: str, name: str):
        if not PARTNER_CODE.match(partner):
            abort(404)
        if not auth.viewer().may_see_partner_rows(partner):
            # Refused in so many words, with nothing of the pack in the answer.
            return Response("You may not see this partner's feedback pack.\n", status=403,
                            mimetype="text/plain", headers={"Cache-Control": "no-store"})
        folder = feedback_dir_beside(queries.serving_path()) / partner
        response = send_from_directory(folder, name)
        response.headers["Cache-Control"] = "private, no-store"
        return response


def _serve_digest(app: Dash) -> None:
    """The "What changed" digest the pipeline writes next to the serving file: the backbone's
    (it sends it on); anyone else gets nothing (404, as for a missing file)."""
    from flask import abort, send_from_directory

    from murmuration.digest import DIGEST_NAME, digest_dir

    @app.server.route("/digest/<name>")
    def digest(name: str):
        if not DIGEST_NAME.match(name) or not auth.viewer().is_admin:
            abort(404)
        response = send_from_directory(digest_dir(queries.serving_path().parent), name)
        response.headers["Cache-Control"] = "private, no-store"
        return response


def _initiative_name() -> str:
    try:
        return queries.initiative_name()
    except queries.NotPublished:
        return "Murmuration"


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the Murmuration dashboard.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8050)
    args = parser.parse_args()
    stoppable()  # started in the background, it may have inherited SIGTERM ignored
    from waitress import serve

    serve(create_app().server, host=args.host, port=args.port, threads=8,
          ident="murmuration")


if __name__ == "__main__":
    main()
