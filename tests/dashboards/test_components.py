"""Dashboard pieces as pure functions, and page callbacks called directly on published data."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboards.components.format import format_value
from dashboards.components.milestone_chart import milestone_figure


def test_format_value():
    assert format_value(1234.567, 1, "hours") == "1,234.6 hours"
    assert format_value(91.94, 1, "%") == "91.9%"
    assert format_value(None) == "-" and format_value(float("nan")) == "-"


def test_milestone_figure_draws_actuals_targets_and_projection():
    totals = pd.DataFrame({
        "period_start": pd.to_datetime(["2026-08-01", "2026-09-01", "2026-10-01"]),
        "value": [10.0, 12.0, 14.0], "partners_reporting": [2, 1, 2],
        "partners_expected": [2, 2, 2]})
    points = pd.DataFrame({
        "point_kind": ["baseline", "milestone", "target"], "sequence": [0, 1, 2],
        "period_start": pd.to_datetime(["2026-01-01", "2026-12-01", "2027-06-01"]),
        "target_value": [8.0, 20.0, 30.0]})
    status = {"status": "at_risk", "milestone_period": "2026-12", "projected_value": 18.0}
    figure = milestone_figure({"short_name": "Visits", "unit_name": "visits", "decimals": 0},
                              totals, points, status)
    names = [trace.name for trace in figure.data]
    assert names == ["Actual", "Planned path", "Baseline", "Milestone", "Target",
                     "Trend projection (at risk)"]
    assert list(figure.data[0].y) == [10.0, 12.0, 14.0]
    assert ["1 of 2 partners reported", None] in [list(c) for c in figure.data[0].customdata]
    assert list(figure.data[-1].y) == [14.0, 18.0]
    assert figure.layout.title.text == "Visits - At risk"


def test_incomplete_and_early_months_are_hollow_and_say_why():
    totals = pd.DataFrame({
        "period_start": pd.to_datetime(["2026-09-01", "2026-10-01", "2026-11-01"]),
        "value": [12.0, 14.0, 5.0], "partners_reporting": [2, 1, 1],
        "partners_expected": [2, 2, 3], "parts_unpaired": [0, 1, 0],
        "completeness_state": ["complete", "incomplete", "not_yet_due"],
        "due_date": pd.to_datetime(["2026-10-15", "2026-11-15", "2026-12-15"])})
    status = {"status": "on_track", "milestone_period": "2026-12", "projected_value": 16.0}
    figure = milestone_figure({"short_name": "Visits", "unit_name": "visits", "decimals": 0},
                              totals, pd.DataFrame(), status)
    actual, left_out = figure.data[0], figure.data[1]
    assert list(actual.y) == [12.0, None, None]  # the line joins complete months only
    assert left_out.name == "Not complete (left out of status)"
    assert left_out.marker.symbol == "circle-open" and list(left_out.y) == [14.0, 5.0]
    assert left_out.customdata[1][0] == ("1 of 3 partners reported, due 2026-12-15 (not yet due: "
                                      "left out of the status)")
    assert left_out.customdata[0][0].startswith("1 of 2 partners reported, due 2026-11-15 "
                                             "(incomplete: left out of the status)<br>1 value "
                                             "left out: only one of numerator and denominator")
    # The projection starts from the latest complete month, the one the status used.
    assert list(figure.data[-1].y) == [12.0, 16.0]


def test_milestone_callback_on_published_data(published):
    from dashboards.pages.milestones import show_indicator

    figure, card, definition, _, _ = show_indicator("families_in_temporary_housing", "all")
    figure = go.Figure(figure)
    assert figure.layout.title.text == "Families in temporary housing - Off track"
    assert len(figure.data[0].x) == 21  # the housing trust joined in 2025-02 (PLANTED)
    assert "Off track" in str(card) and "against a milestone of 160" in str(card)
    assert "Lower is better" in str(definition)

    figure, card, *_ = show_indicator("family_referrals", "north")
    figure = go.Figure(figure)
    assert "No baseline, milestones or target" in str(card)
    # No targets: the title says so (it said "No data" above 24 plotted points).
    assert figure.layout.title.text == "Family referrals - no targets set"
    assert len(figure.data[0].x) == 24


def test_overview_has_a_tile_for_every_indicator(published):
    from dashboards.pages.overview import layout

    text = str(layout())
    # 10 indicators (6 with targets: 6 whole-area statuses + Eastfield's; 4 with none).
    assert text.count("data-indicator=") == 10
    assert text.count("data-status='none'") == 4
    assert text.count("data-status='on_track'") == 3
    assert "Families in temporary housing" in text and "Eastfield" in text
    assert "1,901 children" in text and "+7 children since Sep 2026" in text
    assert "Nov 2026: 1 of 3 partners reported so far (not yet due)" in text
    assert "Data published " in text and "UTC" in text


def test_pages_say_when_nothing_is_published(signed_in, monkeypatch, tmp_path):
    from dashboards.pages import milestones, overview, quality

    with signed_in("steering"):
        monkeypatch.setenv("MURMURATION_SERVING", str(tmp_path / "missing.duckdb"))
        for page in (overview, milestones, quality):
            assert "Nothing published yet" in str(page.layout())


def test_quality_callback_on_published_data(published):
    from dashboards.pages.quality import layout, show_partner

    page = str(layout())
    assert "Riverside Housing Trust" in page and "partner-scorecards" in page
    figure, detail = show_partner("little_steps")
    assert figure.data[0].name == "Score" and len(figure.data[0].x) == 24
    text = str(detail)
    assert "2025-03 (42 days)" in text  # the late report
    assert "/feedback/little_steps/index.html" in text
    figure, detail = show_partner("parents_together")
    assert "2025-08" in str(detail)  # the missing report
