"""The steering and working-group views: tiles, breakdowns, contributions, lineage, small-cell
suppression and weekly periods, as pure functions and as callbacks on the published sample."""

from __future__ import annotations

import duckdb
import pandas as pd
import plotly.graph_objects as go

from dashboards.components.format import period_label
from dashboards.components.milestone_chart import milestone_figure
from dashboards.components.suppression import PRIMARY, SECONDARY, suppress
from dashboards.components.tiles import tile_facts


def test_a_small_cell_is_hidden_with_one_more_so_it_cannot_be_derived():
    cells = pd.DataFrame({"period": ["2026-01"] * 3 + ["2026-02"] * 3,
                          "category": ["f", "m", "x"] * 2,
                          "value": [40.0, 3.0, 20.0, 41.0, 42.0, 30.0],
                          "contributors": [3, 1, 4, 3, 3, 5]})
    judged = suppress(cells, groups=["period"], k=3)
    assert judged["suppressed"].tolist() == [None, PRIMARY, SECONDARY, None, None, None]
    # Two hidden cells already protect each other; k=1 hides nothing.
    two = suppress(cells.assign(contributors=[1, 1, 4, 3, 3, 5]), groups=["period"], k=3)
    assert two["suppressed"].tolist() == [PRIMARY, PRIMARY, None, None, None, None]
    assert suppress(cells, groups=["period"], k=1)["suppressed"].isna().all()
    # A viewer's own cell is never hidden, nor hidden to protect another.
    own = suppress(cells, groups=["period"], k=3,
                   exempt=pd.Series([False, True, False, False, False, False]))
    assert own["suppressed"].isna().all()


def test_a_tile_reads_the_latest_complete_period_and_what_is_pending():
    totals = pd.DataFrame({
        "period": ["2026-08", "2026-09", "2026-10", "2026-11"],
        "period_start": pd.to_datetime(["2026-08-01", "2026-09-01", "2026-10-01",
                                        "2026-11-01"]),
        "value": [1880.0, 1900.4, 1890.0, 829.0], "partners_reporting": [3, 2, 3, 1],
        "partners_expected": [3, 3, 3, 3],
        "completeness_state": ["complete", "incomplete", "complete", "not_yet_due"]})
    indicator = {"decimals": 0, "unit_name": "children"}
    facts = tile_facts(indicator, totals, "month")
    assert facts["value"] == "1,890 children" and facts["period"] == "Oct 2026"
    # The change is against the period before that counts (September was incomplete).
    assert facts["change"] == "+10 children since Aug 2026"
    assert facts["reported"] == "3 of 3 partners reported"
    assert facts["pending"] == "Nov 2026: 1 of 3 partners reported so far (not yet due)"
    # Built from fewer partners than the role's minimum: nothing shown.
    hidden = tile_facts(indicator, totals.assign(partners_reporting=1), "month", 3)
    assert hidden["value"] == "-" and hidden["suppressed"]


def test_a_weekly_initiative_draws_its_weeks():
    weeks = pd.date_range("2023-05-01", periods=8, freq="W-MON")
    totals = pd.DataFrame({
        "period": [f"2023-W{d.isocalendar()[1]:02d}" for d in weeks], "period_start": weeks,
        "value": [10.0, 12, 14, 13, 15, 17, 18, 20], "partners_reporting": [2] * 8,
        "partners_expected": [2] * 8, "completeness_state": ["complete"] * 8})
    points = pd.DataFrame({"point_kind": ["baseline", "target"], "sequence": [0, 1],
                           "period": ["2023-W18", "2023-W30"],
                           "period_start": pd.to_datetime(["2023-05-01", "2023-07-24"]),
                           "target_value": [10.0, 40.0]})
    status = {"status": "at_risk", "milestone_period": "2023-W30", "projected_value": 35.0}
    figure = milestone_figure({"short_name": "Cases", "unit_name": "cases", "decimals": 0},
                              totals, points, status, period_type="week")
    assert list(figure.data[0].y) == totals["value"].tolist()
    projection = figure.data[-1]
    assert pd.Timestamp(projection.x[1]) == pd.Timestamp("2023-07-24")
    assert "week of" in figure.data[0].hovertemplate
    assert period_label("2023-W05", "week") == "week 5, 2023 (30 Jan)"
    assert period_label("2026-12", "month") == "Dec 2026"


def test_breakdowns_and_contributions_add_up_to_the_totals(sample_run):
    """On the sample: each breakdown dimension's categories (with 'not broken down') and the
    partners' parts add up to the published total for every summed indicator."""
    con = duckdb.connect(str(sample_run.paths.serving), read_only=True)
    try:
        gaps = con.execute("""
            with totals as (
                select indicator_code, period, place_code, value
                from marts.indicator_period_totals t
                join marts.indicators i using (indicator_code)
                where period_type = 'month' and i.aggregation <> 'ratio'
            ),
            by_dimension as (
                select indicator_code, period, place_code, dimension_code, sum(value) as value
                from marts.indicator_breakdowns group by all
            ),
            by_partner as (
                select indicator_code, period, place_code, sum(value) as value
                from marts.indicator_contributions group by all
            )
            select
                count(*) filter (where abs(d.value - t.value) > 1e-6),
                count(d.value),
                count(*) filter (where abs(p.value - t.value) > 1e-6),
                count(p.value)
            from totals t
            left join by_dimension d using (indicator_code, period, place_code)
            left join by_partner p using (indicator_code, period, place_code)""").fetchone()
        assert gaps[0] == 0 and gaps[1] == 490
        assert gaps[2] == 0 and gaps[3] > 700
        sexes = con.execute("""
            select category_code, value from marts.indicator_breakdowns
            where indicator_code = 'children_enrolled' and place_code = 'all'
                and period = '2026-10' and dimension_code = 'sex' order by 1""").fetchall()
        assert sexes == [("f", 948.0), ("m", 953.0)]  # 1,901 children
        revised = con.execute("""
            select partner_code, values_revised from marts.indicator_contributions
            where indicator_code = 'children_enrolled' and place_code = 'all'
                and period = '2025-05' and values_revised > 0""").fetchall()
        assert revised == [("brightstart", 5)]  # its corrected file changed 4, removed 1
    finally:
        con.close()


def test_indicator_page_shows_breakdowns_contributions_and_revisions(published):
    from dashboards.pages.milestones import show_indicator

    figure, card, _, breakdowns, parts, downloads, config = show_indicator("children_enrolled",
                                                                          "all")
    figure = go.Figure(figure)
    hover = {c[1]: c[0] for trace in figure.data if trace.customdata is not None
             for c in trace.customdata if isinstance(c, (list, tuple))}
    assert "Revised by a later file from BrightStart Nurseries" in hover["2025-05"]
    assert "3 of 3 partners reported" in hover["2025-05"]
    assert "1 value behind it flagged as unusual" in hover["2025-08"]
    assert "Holds a value flagged as an extreme outlier" in [t.name for t in figure.data]
    # Totals missing a quarantined value are marked (a dip may be that): February 2025 lost
    # 'TBC' at Northgate and -3 at Southbank.
    assert "Misses quarantined values" in [t.name for t in figure.data]
    assert "2 values quarantined, not counted" in hover["2025-02"]
    assert "projects 1,943 by 2026-12 against a milestone of 1,850" in str(card)
    panels = [go.Figure(graph.figure) for graph in breakdowns.children[0].children]
    assert [panel.layout.title.text for panel in panels] == ["By age band", "By sex", "By place"]
    names = {trace.name for panel in panels for trace in panel.data}
    assert {"Female", "Male", "0 to 2 years", "3 to 4 years", "Northgate", "Eastfield"} <= names
    contribution = go.Figure(parts.children[0].figure)
    assert sorted(t.name for t in contribution.data) == [
        "BrightStart Nurseries", "Little Steps Playgroups", "Parents Together"]
    # Found: nothing could be taken out. The page's chart values download as CSV/Excel (the
    # points drawn, nothing more) and its picture is named after the indicator and place.
    store = next(c for c in downloads.children if type(c).__name__ == "Store")
    assert store.data["name"] == "Children enrolled - Whole area"
    actual = next(t for t in figure.data if t.name == "Actual")
    drawn = [y for y in actual.y if y is not None]
    assert [row[2] for row in store.data["rows"] if row[0] == "Actual"] == drawn
    assert config["toImageButtonOptions"]["filename"] == "Children enrolled - Whole area"
    assert any(type(c).__name__ == "Store" for c in parts.children[1].children)


def test_lineage_lists_the_values_behind_a_point_for_those_who_may_see_rows(signed_in):
    from dashboards.pages.milestones import show_lineage

    click = {"points": [{"customdata": ["3 of 3 partners reported", "2025-05"]}]}
    trigger = {"prop_id": "milestone-chart.clickData", "value": click}
    from dash._callback_context import context_value
    from dash._utils import AttributeDict

    def call(*args):
        token = context_value.set(AttributeDict(triggered_inputs=[trigger]))
        try:
            return show_lineage(*args)
        finally:
            context_value.reset(token)

    with signed_in("admin"):
        answer = call(click, "children_enrolled", "all")
        table = answer.children[1].children[0]  # the table, above its downloads
        files = {row["File"] for row in table.data}
        assert "brightstart_enrolment_2025-05_corrected.csv" in files and len(files) == 3
        assert len(table.data) == 47
        assert "May 2025: 1,557 children from 3 partners" == answer.children[0].children
    with signed_in("partner", partners=("brightstart",)):
        answer = call(click, "children_enrolled", "all")
        rows = answer.children[1].children[0].data
        assert {row["Partner"] for row in rows} == {"BrightStart Nurseries"}
        assert {row["Row"] for row in rows} >= {"2", "3", "4"}
    with signed_in("steering"):
        answer = call(click, "children_enrolled", "all")
        assert "seen by each partner for its own" in str(answer)
        assert "brightstart_enrolment" not in str(answer)


def test_partners_see_no_small_cells(signed_in):
    """The sample hides cells from fewer than 3 partners from partners (initiative.yaml)."""
    from dashboards.pages.milestones import show_indicator
    from dashboards.pages.overview import layout

    with signed_in("partner", partners=("brightstart",)):
        page = str(layout())
        assert "Suppressed: fewer partners than the minimum for your role" in page
        assert "216 families" not in page  # the housing trust alone reports it
        figure, *_ = show_indicator("families_in_temporary_housing", "all")
        assert not any(trace.name == "Actual" for trace in go.Figure(figure).data)
        _, _, _, _, parts, *_ = show_indicator("children_enrolled", "all")
        names = [trace.name for trace in go.Figure(parts.children[0].figure).data]
        assert names == ["BrightStart Nurseries"]  # its own part; the others hidden
        assert "not shown to your role" in str(parts)
    with signed_in("steering"):
        assert "216 families" in str(layout())


def test_bad_callback_inputs_get_an_answer_not_an_error(published):
    from dashboards.pages.milestones import show_indicator

    for indicator, place in [("nope", "all"), (None, "all"), ("children_enrolled", "mars"),
                             (["x"], {"y": 1})]:
        figure, card, *_ = show_indicator(indicator, place)
        assert figure == {} and "No " in str(card)


def test_nothing_new_is_said_once_not_once_a_section(signed_in, monkeypatch):
    """Found: "What changed" said "Nothing new since ..." nine times, once under each empty
    section. Compared with itself, the published snapshot has nothing new: said once."""
    from dashboards.pages import changes as page
    from murmuration import digest

    with signed_in("steering") as user:
        current = page._current()
        monkeypatch.setattr(page, "_earlier", lambda _current: [{"key": "earlier"}])
        monkeypatch.setattr(digest, "load_snapshot", lambda _state, _key: current)
        body = page._content(user, current, "earlier")
    text = " ".join(str(part) for part in body)
    assert text.count("Nothing new since") == 1
    assert not any(getattr(part, "id", "").startswith("changes-submissions") for part in body)
