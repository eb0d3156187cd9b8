"""The harmonised marts on the sample inbox, checked against totals computed here, independently,
straight from the partner files (csv, json and openpyxl; no DuckDB, no mapping code)."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from datetime import datetime

import openpyxl
import pytest

from murmuration.sample_inbox import PLANTED
from tests.conftest import SAMPLE

pytestmark = pytest.mark.slow


def one(con, sql, *parameters):
    return con.execute(sql, list(parameters)).fetchall()[0][0]


def total(con, indicator, period, place="all", period_type="month"):
    return one(con, "select value from marts.indicator_period_totals where indicator_code = ? "
               "and period = ? and place_code = ? and period_type = ?",
               indicator, period, place, period_type)


def csv_rows(path, delimiter=","):
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def test_every_row_is_accepted_or_quarantined(warehouse):
    mismatched = warehouse.execute(
        "select file_name from marts.submissions where data_rows <> rows_accepted + "
        "rows_quarantined or records <> values_accepted + values_quarantined").fetchall()
    assert mismatched == []
    landed, data_rows, accepted, quarantined = warehouse.execute(
        "select sum(rows_read), sum(data_rows), sum(rows_accepted), sum(rows_quarantined) "
        "from marts.submissions").fetchall()[0]
    assert (landed, data_rows, accepted, quarantined) == (
        SAMPLE.rows_read, SAMPLE.data_rows, SAMPLE.accepted, SAMPLE.quarantined)
    # Blank and empty template rows (Parents Together's unused row each month, a hub's row
    # dated the month before) are neither accepted nor quarantined: they are not data.
    [(empty, unbalanced)] = warehouse.execute(
        "select sum(empty_rows), count(*) filter (where landing_status = 'landed' and rows_read "
        "<> structure_rows + other_sheet_rows + empty_rows + data_rows) "
        "from marts.submissions").fetchall()
    assert (empty, unbalanced) == (24, 0)


def test_children_enrolled_uses_the_corrected_resubmission(warehouse, sample_run):
    inbox = sample_run.paths.inbox_dir
    period = PLANTED["resubmitted"][1]
    expected = sum(int(r["Count"]) for r in csv_rows(
        inbox / "brightstart" / f"brightstart_enrolment_{period}_corrected.csv"))
    label = datetime.strptime(period, "%Y-%m").strftime("%b %Y")
    expected += sum(int(r["Value"]) for r in csv_rows(
        inbox / "little_steps" / f"little_steps_{period}.csv", ";")
        if r["Indicator"] == "Enrolled children" and r["Reporting month"] == label)
    sheet = openpyxl.load_workbook(inbox / "parents_together" /
                                   f"parents_together_{period}.xlsx").active
    for row in sheet.iter_rows(min_row=4, values_only=True):
        if row[1]:
            expected += sum(v for v in row[2:6] if v is not None)
    assert total(warehouse, "children_enrolled", period) == expected
    superseded = one(warehouse, "select values_superseded from marts.submissions where "
                     "file_name = ?", f"brightstart_enrolment_{period}.csv")
    assert superseded == 16


def test_home_visits_leave_out_the_out_of_range_value(warehouse, sample_run):
    period = PLANTED["above_range"][1]
    inbox = sample_run.paths.inbox_dir
    expected = 0
    sheet = openpyxl.load_workbook(inbox / "family_hub" / f"family_hub_return_{period}.xlsx")[
        "Return"]
    for row in sheet.iter_rows(min_row=5, max_row=8, values_only=True):
        expected += row[2] if row[2] <= 600 else 0
    sheet = openpyxl.load_workbook(inbox / "parents_together" /
                                   f"parents_together_{period}.xlsx").active
    expected += sum(row[6] for row in sheet.iter_rows(min_row=4, values_only=True) if row[1])
    assert total(warehouse, "home_visits", period) == expected


def test_reading_hours_convert_minutes_and_keep_the_outlier(warehouse, sample_run):
    period = PLANTED["outlier"][1]
    inbox = sample_run.paths.inbox_dir
    minutes = sum(int(r["Minutes of reading sessions"]) for r in csv_rows(
        inbox / "library_service" / f"library_service_{period}.csv"))
    minutes += sum(int(r["Value"]) for r in csv_rows(
        inbox / "little_steps" / f"little_steps_{period}.csv", ";")
        if r["Indicator"] == "Story time (minutes)")
    assert total(warehouse, "reading_hours", period) == pytest.approx(minutes / 60)
    north = total(warehouse, "reading_hours", period, "north")
    assert north > int(PLANTED["outlier"][2]) / 60  # accepted: an outlier is not invalid


def test_immunisation_coverage_pairs_numerator_and_denominator(warehouse, sample_run):
    """Northgate's immunised girls for 2025-09 are quarantined (unknown data element): their
    cohort is left out too, instead of publishing 47.9 % for Northgate and 75.2 % overall."""
    period = PLANTED["unknown_data_element"][1]
    document = json.loads((sample_run.paths.inbox_dir / "riverside_health" /
                           f"riverside_health_{period.replace('-', '')}.json").read_text())
    parts = defaultdict(dict)
    for value in document["dataValues"]:
        parts[(value["orgUnit"], value["categoryOptionCombo"])][value["dataElement"]] = \
            int(value["value"])
    paired = {unit: p for unit, p in parts.items() if {"Imm2yFull01", "Pop2yTurn01"} <= set(p)}
    assert len(parts) - len(paired) == 1  # the planted unit

    def coverage(units):
        return (sum(p["Imm2yFull01"] for p in units) / sum(p["Pop2yTurn01"] for p in units)
                * 100)

    assert total(warehouse, "immunisation_coverage", period) == pytest.approx(
        coverage(paired.values()))
    north = [p for (org_unit, _), p in paired.items() if org_unit == "OuNgate0001"]
    assert total(warehouse, "immunisation_coverage", period, "north") == pytest.approx(
        coverage(north))
    assert round(total(warehouse, "immunisation_coverage", period, "north"), 1) == 89.5
    assert round(total(warehouse, "immunisation_coverage", period), 1) == 87.6
    assert one(warehouse, "select parts_unpaired from marts.indicator_period_totals where "
               "indicator_code = 'immunisation_coverage' and period = ? and place_code = "
               "'north' and period_type = 'month'", period) == 1


def test_a_stock_counts_its_latest_month_over_a_quarter(warehouse, sample_run):
    december = csv_rows(sample_run.paths.inbox_dir / "housing_trust" / "housing_trust_2025-12.csv")
    expected = sum(int(r["Families"]) for r in december)
    assert total(warehouse, "families_in_temporary_housing", "2025-Q4",
                 period_type="quarter") == expected
    assert total(warehouse, "families_in_temporary_housing", "2025-12") == expected


def test_missing_month_is_visible_as_partners_reporting(warehouse):
    period = PLANTED["missing"][1]
    reporting, expected = warehouse.execute(
        "select partners_reporting, partners_expected from marts.indicator_period_totals "
        "where indicator_code = 'children_enrolled' and period = ? and place_code = 'all' "
        "and period_type = 'month'", [period]).fetchall()[0]
    assert (reporting, expected) == (2, 3)


@pytest.mark.parametrize("planted, reason", [
    ("unresolved_organisation", "organisation 'Brite Start' is not a known partner name"),
    ("not_a_number", "value 'TBC' is not a number"),
    ("below_range", "value -3 children is outside the valid range for Children enrolled"),
    ("unknown_place", "'Nortgate' is not a known place"),
    ("unknown_category", "'5-6' is not a known Age band"),
    ("unknown_data_element", "'Imm2yPart01' is not a known indicator"),
    ("above_range", "value 950 visits is outside the valid range for Home visits"),
])
def test_each_planted_problem_is_quarantined_with_its_reason(warehouse, planted, reason):
    partner = PLANTED[planted][0]
    matches = warehouse.execute(
        "select quarantine_reason from marts.quarantined_values where partner_code = ? and "
        "starts_with(quarantine_reason, ?)", [partner, reason]).fetchall()
    assert len(matches) == 1, (planted, matches)


def test_milestone_statuses_follow_the_documented_rule(warehouse):
    rows = warehouse.execute(
        "select indicator_code, place_code, status, latest_period, milestone_period, "
        "projected_value, milestone_value, margin, progress_asked, trend_per_period "
        "from marts.milestone_status").fetchall()
    statuses = {(r[0], r[1]): r[2] for r in rows}
    assert statuses == {
        ("children_enrolled", "all"): "on_track",
        ("children_enrolled", "east"): "at_risk",
        ("reading_hours", "all"): "at_risk",
        ("home_visits", "all"): "on_track",
        ("immunisation_coverage", "all"): "on_track",
        ("families_in_temporary_housing", "all"): "off_track",
        # a median fee: the trend of the wards' medians, not of their sum
        ("weekly_childcare_fee", "all"): "off_track",
    }
    for code, place, status, latest, milestone, projected, _target, margin, asked, slope in rows:
        assert latest == "2026-10" and milestone == "2026-12"
        # Recompute the projection from the monthly totals with an independent least squares.
        series = warehouse.execute(
            "select period_start, value from marts.indicator_period_totals where "
            "indicator_code = ? and place_code = ? and period_type = 'month' and "
            "period_start > date '2026-04-01' and completeness_state = 'complete' order by 1",
            [code, place]).fetchall()
        xs = [d.year * 12 + d.month for d, _ in series]
        ys = [v for _, v in series]
        mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
        fitted = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=False)) / sum(
            (x - mean_x) ** 2 for x in xs)
        assert slope == pytest.approx(fitted)
        assert projected == pytest.approx(mean_y + fitted * (2026 * 12 + 12 - mean_x))
        if status == "on_track":
            assert margin >= 0
        elif status == "at_risk":
            assert 0 > margin >= -0.25 * asked
        else:
            assert margin < -0.25 * asked


def test_resubmission_difference_is_reported(warehouse):
    period = PLANTED["resubmitted"][1]
    row = warehouse.execute(
        "select kind, superseded_file, current_file, values_added, values_changed, "
        "values_removed, values_unchanged, rule_applied from marts.superseded_submissions "
        "where partner_code = 'brightstart' and period = ?", [period]).fetchall()
    assert row == [("resubmission", f"brightstart_enrolment_{period}.csv",
                    f"brightstart_enrolment_{period}_corrected.csv", 0, 4, 1, 11,
                    "latest_arrival: the submission that arrived last wins")]


def test_every_published_mart_column_is_described(warehouse):
    """The marts are what the dashboard, partners and analysts read: each column says what it
    holds (dbt_project/models/marts/_marts.yml, shared wording in _columns.md)."""
    import yaml

    from murmuration.paths import DBT_PROJECT_DIR

    marts = DBT_PROJECT_DIR / "models" / "marts"
    blocks = set(re.findall(r"\{%\s*docs\s+(\w+)\s*%\}", (marts / "_columns.md").read_text()))
    described = {}
    for model in yaml.safe_load((marts / "_marts.yml").read_text())["models"]:
        for column in model.get("columns", []):
            text = column.get("description") or ""
            reference = re.fullmatch(r"""\{\{\s*doc\(["'](\w+)["']\)\s*\}\}""", text.strip())
            assert reference is None or reference.group(1) in blocks, (model["name"], text)
            if text.strip():
                described.setdefault(model["name"], set()).add(column["name"])
    missing = [f"{table}.{column}" for table, column in warehouse.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts' order by table_name, ordinal_position").fetchall()
        if column not in described.get(table, set())]
    assert missing == []
