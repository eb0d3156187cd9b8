"""Page pieces shared by every page."""

from dash import dcc, html

from dashboards import queries


def not_published() -> html.Div:
    return html.Div(className="notice", children=[
        html.H2("Nothing published yet"),
        html.P(["This initiative has no published snapshot yet. Run the pipeline first: ",
                html.Code("murmuration run --project <initiative folder>"), "."]),
        html.P(f"(Looked for {queries.serving_path()})"),
    ])


def status_badge(status: str) -> html.Span:
    from dashboards.components.status import STATUS_LABELS

    return html.Span(STATUS_LABELS.get(status, status), className=f"badge badge-{status}",
                     **{"data-status": status})


def link(text: str, href: str) -> dcc.Link:
    return dcc.Link(text, href=href)
