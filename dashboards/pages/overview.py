"""Steering committee overview: every target's status, grouped by working group."""

import dash
from dash import html

from dashboards import queries
from dashboards.components.format import format_value
from dashboards.components.layout import link, not_published, status_badge

dash.register_page(__name__, path="/", title="Milestones overview", name="Overview")


def layout(**_query):
    try:
        statuses = queries.milestone_status()
        published = queries.published_at()
    except queries.NotPublished:
        return not_published()
    sections = []
    for group, rows in statuses.groupby("working_group_name", sort=False):
        body = []
        for row in rows.to_dict("records"):
            decimals, unit = int(row["decimals"]), row["unit_name"]
            next_point = (f"{format_value(row['milestone_value'], decimals, unit)} by "
                          f"{row['milestone_period']}" if row["milestone_period"] else "-")
            body.append(html.Tr([
                html.Td(link(row["short_name"], f"/milestones?indicator={row['indicator_code']}"
                                                f"&place={row['place_code']}")),
                html.Td(row["place_name"]),
                html.Td(f"{format_value(row['latest_value'], decimals, unit)}"
                        + (f" ({row['latest_period']})" if row["latest_period"] else "")),
                html.Td(next_point),
                html.Td(format_value(row["projected_value"], decimals, unit)),
                html.Td(status_badge(row["status"])),
            ], **{"data-indicator": row["indicator_code"]}))
        sections.append(html.Section([
            html.H3(group),
            html.Table(className="status-table", children=[
                html.Thead(html.Tr([html.Th(h) for h in (
                    "Indicator", "Place", "Latest", "Next milestone", "Projected", "Status")])),
                html.Tbody(body),
            ]),
        ]))
    return html.Div([
        html.H2("Where each shared indicator is heading"),
        html.P(["Status compares the trend of recent months with the next milestone. ",
                f"Data published {published}."], className="muted"),
        *sections,
    ])
