"""The Dash app: pages under dashboards/pages, reading only the published serving file."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

import dash
from dash import Dash, dcc, html

from dashboards import queries

HERE = Path(__file__).parent
PARTNER_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def create_app() -> Dash:
    app = Dash(__name__, use_pages=True, pages_folder=str(HERE / "pages"),
               assets_folder=str(HERE / "assets"), title="Murmuration",
               suppress_callback_exceptions=True)
    _serve_feedback_packs(app)
    app.layout = html.Div([
        html.Header(className="top", children=[
            html.H1(id="initiative-name", children=_initiative_name()),
            html.Nav([dcc.Link(page["name"], href=page["relative_path"], className="nav-link")
                      for page in dash.page_registry.values()]),
        ]),
        html.Main(dash.page_container),
    ])
    return app


def _serve_feedback_packs(app: Dash) -> None:
    """Partners' feedback packs (written by the pipeline next to the serving file)."""
    from flask import abort, send_from_directory

    @app.server.route("/feedback/<partner>/<path:name>")
    def feedback(partner: str, name: str):
        if not PARTNER_CODE.match(partner):
            abort(404)
        folder = queries.serving_path().parent / "feedback" / partner
        return send_from_directory(folder, name)


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
    from waitress import serve

    serve(create_app().server, host=args.host, port=args.port, threads=8,
          ident="murmuration")


if __name__ == "__main__":
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    main()
