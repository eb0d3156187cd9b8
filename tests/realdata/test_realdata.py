"""Every real partner file in ../shared/realdata lands, maps and harmonises, and every row is
accounted for. Each folder is an initiative defined here (registry + mappings written for those
files); the files themselves are read from ../shared, never copied into the product."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest
import yaml

from tests.realdata.initiatives import FIXTURES, FOLDERS, build

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=FOLDERS)
def harmonised(request, tmp_path_factory, dbt_manifest):
    folder = request.param
    paths, registry = build(folder, tmp_path_factory.mktemp("realdata") / folder)
    expected = json.loads((FIXTURES / folder / "expected.json").read_text())
    return folder, paths, registry, expected


def query(paths, sql: str) -> list[tuple]:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_every_row_of_every_file_is_accounted_for(harmonised):
    folder, paths, _, _ = harmonised
    rows = query(paths, 
        "select file_name, landing_status, rows_read, structure_rows, other_sheet_rows, "
        "empty_rows, data_rows, rows_accepted, rows_quarantined, records, values_accepted, "
        "values_quarantined from marts.submissions order by file_name")
    layout = yaml.safe_load((FIXTURES / folder / "layout.yaml").read_text())
    assert len(rows) == len(layout["inbox"])
    for (name, status, read, structure, other, empty, data, accepted, quarantined, records,
         values_accepted, values_quarantined) in rows:
        assert status == "landed", name
        assert read == structure + other + empty + data, name
        assert data == accepted + quarantined, name
        assert records == values_accepted + values_quarantined, name
        assert data > 0, name


def test_outcomes_match_the_measured_expectations(harmonised):
    _, paths, _, expected = harmonised
    actual = {row[0]: row[1:] for row in query(paths, 
        "select file_name, data_rows, rows_accepted, rows_quarantined, values_current, "
        "values_superseded, values_quarantined, empty_rows from marts.submissions")}
    for item in expected["submissions"]:
        assert actual[item["file_name"]] == (
            item["data_rows"], item["rows_accepted"], item["rows_quarantined"],
            item["values_current"], item["values_superseded"], item["values_quarantined"],
            item.get("empty_rows", 0)), item["file_name"]


def test_quarantine_reasons_name_the_file_row_and_column(harmonised):
    _, paths, _, _ = harmonised
    [(unexplained,)] = query(paths, 
        "select count(*) from marts.quarantined_values where quarantine_reason is null "
        "or file_name is null or row_number is null")
    assert unexplained == 0


def test_published_values_meet_the_definitions(harmonised):
    from expectations.validate import run_quality

    _, paths, registry, _ = harmonised
    report = run_quality(paths, registry)
    assert report.failing["published"] == []


def test_consolidated_overlaps_are_resolved_and_reported(harmonised):
    folder, paths, registry, _ = harmonised
    overlaps = query(paths, "select kind, rule_applied, count(*), sum(values_changed), "
                            "sum(values_removed) from marts.superseded_submissions group by 1, 2")
    if folder == "venezuela_education_5w_2020":
        # Every partner-month in the consolidated database is also in a partner's own file,
        # which wins (overlap_rule: partner_files_first) although the database arrived first.
        [(kind, rule, count, changed, removed)] = overlaps
        assert (kind, rule.split(":")[0]) == ("overlap", "partner_files_first")
        assert count == query(paths, "select count(distinct partner_code || period) from "
                                     "marts.indicator_values")[0][0]
        assert (changed, removed) == (0, 0)  # the database repeats the partners' rows
    elif folder == "dhis2_sierra_leone_demo":
        # Each month arrives in three files; the last to arrive speaks, and nothing differs.
        assert [(k, c) for k, _, c, _, _ in overlaps] == [("resubmission", 6)]
        assert [(changed, removed) for *_, changed, removed in overlaps] == [(0, 0)]
    else:
        assert overlaps == []


def test_the_indicator_chart_draws_the_initiatives_own_periods(harmonised, monkeypatch):
    """Weekly data (Laos dengue) is drawn by week on the indicator chart: a weekly initiative's
    chart once showed no actual values (the dashboard assumed months)."""
    import plotly.graph_objects as go

    from dashboards import queries
    from dashboards.components.milestone_chart import milestone_figure
    from murmuration.warehouse import publish

    _, paths, registry, _ = harmonised
    publish(paths)
    monkeypatch.setenv("MURMURATION_SERVING", str(paths.serving))
    period_type = queries.initiative()["period_type"]
    assert period_type == registry.initiative.period_type.value
    indicator = queries.indicators().iloc[0].to_dict()
    totals = queries.base_period_totals(indicator["indicator_code"], "all")
    assert not totals.empty
    figure = go.Figure(milestone_figure(indicator, totals, pd.DataFrame(), None,
                                        period_type=period_type))
    drawn = [y for trace in figure.data if trace.name in ("Actual", "Not complete (left out "
                                                          "of status)")
             for y in trace.y if y is not None]
    assert len(drawn) == len(totals)
    if period_type == "week":
        assert all(start.dayofweek == 0 for start in pd.to_datetime(totals["period_start"]))
        assert "week of" in figure.data[0].hovertemplate
