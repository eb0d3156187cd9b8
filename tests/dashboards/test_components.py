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

    figure, card, definition, *_ = show_indicator("families_in_temporary_housing", "all")
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


def test_each_breakdown_panel_has_its_own_legend_under_it():
    """Found: the small multiples shared one merged legend, so "0 to 2 years", "Female" and
    "Northgate" (each its panel's first colour) read as one series; and at a phone's width the
    three panels' legends ran into each other. Each panel is its own chart (they wrap on a narrow
    screen), with its own legend under it and one y scale across them."""
    from dashboards.components.breakdown_chart import breakdown_figures
    from dashboards.components.tables import panel_downloads

    months = pd.date_range("2025-01-01", periods=3, freq="MS")

    def cells(names, value):
        return pd.DataFrame([{"category_name": name, "period_start": month, "value": value}
                             for name in names for month in months])

    panels = [("By age band", cells(["0 to 2 years", "3 to 4 years"], 10.0)),
              ("By sex", cells(["Female", "Male"], 20.0)),
              ("By place", cells(["Northgate", "Southbank", "Eastfield"], 5.0))]
    figures = breakdown_figures(panels, {"unit_name": "children"}, "month")
    assert [f.layout.title.text for f in figures] == ["By age band", "By sex", "By place"]
    assert [[t.name for t in f.data] for f in figures] == [
        ["0 to 2 years", "3 to 4 years"], ["Female", "Male"],
        ["Northgate", "Southbank", "Eastfield"]]
    # Each panel's first series gets the first colour of its own legend, under the panel.
    assert len({f.data[0].line.color for f in figures}) == 1
    # Room under each panel for its own legend (the plot areas stay the same height).
    assert [f.layout.margin.b for f in figures] == [40 + 2 * 20 + 10] * 2 + [40 + 3 * 20 + 10]
    assert len({f.layout.height - f.layout.margin.b for f in figures}) == 1
    assert all(f.layout.legend.y < 0 for f in figures)
    # One scale: 5 and 20 are on every panel's axis.
    ranges = {tuple(f.layout.yaxis.range) for f in figures}
    assert len(ranges) == 1 and ranges.pop()[0] < 5 < 20
    # The values download in one file, each row with its panel.
    store = panel_downloads(list(zip([t for t, _ in panels], figures, strict=True)), "b", "b")
    data = next(c for c in store.children if getattr(c, "data", None)).data
    assert data["columns"] == ["Panel", "Series", "Date", "Value"]
    assert ["By sex", "Female", "2025-01-01", 20.0] in data["rows"]
    assert len(data["rows"]) == 7 * 3


def test_a_table_downloads_as_csv_and_excel_with_spreadsheet_safe_cells():
    """Found: nothing could be taken out of the dashboard. Every table with an id has CSV and
    Excel downloads of the rows shown; a partner's text that looks like a formula stays text."""
    import base64
    import io

    import openpyxl

    from dashboards.components.tables import data_table, table_file

    frame = pd.DataFrame({"file": ["=HYPERLINK(\"http://x\")", "visits.csv"],
                          "value": ["-3 children", "1,234 children"], "row": [4, None]})
    block = data_table(frame, {"file": "File", "value": "Value", "row": "Row"},
                       table_id="quality-quarantined", export="Quarantined rows - Brightstart")
    store = next(child for child in block.children if type(child).__name__ == "Store")
    table = store.data
    assert table["columns"] == ["File", "Value", "Row"]
    assert table["rows"] == [['=HYPERLINK("http://x")', "-3 children", 4],
                             ["visits.csv", "1,234 children", None]]

    csv_file = table_file(table, "csv")
    assert csv_file["filename"] == "Quarantined rows - Brightstart.csv"
    content = base64.b64decode(csv_file["content"])
    assert content.startswith(b"\xef\xbb\xbf")
    assert content.decode("utf-8-sig").splitlines() == [
        "File,Value,Row", "\"'=HYPERLINK(\"\"http://x\"\")\",'-3 children,4",
        "visits.csv,\"1,234 children\","]

    xlsx = table_file(table, "xlsx")
    assert xlsx["filename"] == "Quarantined rows - Brightstart.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(base64.b64decode(xlsx["content"]))).active
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert cells[:2] == [["File", "Value", "Row"], ['=HYPERLINK("http://x")', "-3 children", "4"]]
    assert all(cell.data_type == "s" for row in sheet.iter_rows() for cell in row if cell.value)
    # Without an id (or export=False) a table has no downloads.
    assert type(data_table(frame, {"file": "File"})).__name__ == "DataTable"


def test_a_chart_downloads_the_values_it_draws():
    from dashboards.components.tables import figure_rows

    figure = go.Figure([go.Scatter(name="Actual", x=pd.to_datetime(["2026-08-01", "2026-09-01"]),
                                   y=[10.0, None]),
                        go.Scatter(name="Target", x=pd.to_datetime(["2027-06-01"]), y=[30.0])])
    assert figure_rows(figure) == (["Series", "Date", "Value"],
                                   [["Actual", "2026-08-01", 10.0], ["Target", "2027-06-01", 30.0]])
