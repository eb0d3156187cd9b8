"""On the sample: what a submission replaces and which months count, each checked against the
partner files themselves (csv and openpyxl, no mapping code). The cases are planted in
murmuration/sample_inbox.py (PLANTED); each was a wrong number published without a word before.
"""

from __future__ import annotations

import csv
from datetime import datetime

import openpyxl
import pytest

from murmuration.sample_inbox import HUBS, PLANTED

pytestmark = pytest.mark.slow


def rows(con, sql, *parameters):
    return con.execute(sql, list(parameters)).fetchall()


def test_rows_of_an_earlier_month_replace_only_their_slice(warehouse, sample_run):
    """Before: Little Steps' 2025-11 file, holding 4 corrected story-time rows for 2025-10,
    replaced the whole October file ("16 removed"): October's children enrolled lost a partner."""
    partner, later, earlier = PLANTED["corrected_rows_in_next_file"]
    [row] = rows(warehouse, "select superseded_file, current_file, slices_superseded, indicators, "
                            "values_changed, values_removed from marts.superseded_submissions "
                            "where partner_code = ? and period = ?", partner, earlier)
    assert row == (f"little_steps_{earlier}.csv", f"little_steps_{later}.csv", 1,
                   "reading_hours", 4, 0)
    label = datetime.strptime(earlier, "%Y-%m").strftime("%b %Y")
    with (sample_run.paths.inbox_dir / partner / f"little_steps_{earlier}.csv").open(
            encoding="utf-8-sig", newline="") as handle:
        enrolled = {(r["Area"], r["Sex"], r["Age"]): int(r["Value"])
                    for r in csv.DictReader(handle, delimiter=";")
                    if r["Indicator"] == "Enrolled children" and r["Reporting month"] == label}
    [(count, total, files)] = rows(
        warehouse, "select count(*), sum(value), string_agg(distinct file_name, ', ') from "
                   "marts.indicator_values where partner_code = ? and period = ? and "
                   "indicator_code = 'children_enrolled'", partner, earlier)
    assert (count, total, files) == (16, sum(enrolled.values()), f"little_steps_{earlier}.csv")


def test_an_empty_template_row_of_another_month_claims_nothing(warehouse):
    """Before: a hub's 2026-09 return with an empty row dated 2026-08 replaced the hub
    network's whole August return (8 values removed; home visits fell from 986 to 335)."""
    partner, month, earlier = PLANTED["template_row_of_another_month"]
    assert rows(warehouse, "select count(*) from marts.superseded_submissions where "
                           "partner_code = ? and period = ?", partner, earlier) == [(0,)]
    assert rows(warehouse, "select count(*), any_value(file_name) from marts.indicator_values "
                           "where partner_code = ? and period = ?", partner, earlier) == [
        (8, f"family_hub_return_{earlier}.xlsx")]
    [(empty, quarantined)] = rows(warehouse, "select empty_rows, rows_quarantined - 1 from "
                                             "marts.submissions where inbox_path = ?",
                                  f"family_hub/north_east_hub/family_hub_return_{month}.xlsx")
    assert (empty, quarantined) == (1, 0)  # only the declared Total row is quarantined


def test_reporting_units_add_up_instead_of_replacing_each_other(warehouse, sample_run):
    """Before: the two hub offices' returns for 2026-09 replaced each other (4 of 8 values
    removed; whole-area home visits 661 instead of 1,004)."""
    partner, month, units = PLANTED["reporting_units"]
    expected = 0
    for hub in units:
        sheet = openpyxl.load_workbook(sample_run.paths.inbox_dir / partner / hub /
                                       f"family_hub_return_{month}.xlsx")["Return"]
        for row in sheet.iter_rows(min_row=5, values_only=True):
            if row[1] in {"Northgate", "Southbank", "Eastfield", "Westmoor"}:
                expected += row[2]
    places = dict(rows(warehouse, "select reporting_unit, string_agg(place_code, ',' order by "
                                  "place_code) from marts.indicator_values where partner_code "
                                  "= ? and period = ? and indicator_code = 'home_visits' "
                                  "group by 1", partner, month))
    assert places == {hub: ",".join(sorted(p)) for hub, p in HUBS.items()}
    [(family_hub_visits,)] = rows(warehouse, "select sum(value) from marts.indicator_values "
                                             "where partner_code = ? and period = ? and "
                                             "indicator_code = 'home_visits'", partner, month)
    assert family_hub_visits == expected
    assert rows(warehouse, "select count(*) from marts.superseded_submissions "
                           "where partner_code = ?", partner) == [(0,)]
    # The scorecard rolls up to the partner and can be read per unit.
    assert rows(warehouse, "select reporting_unit, received, on_time from "
                           "quality.reporting_unit_reports where report_period = ? order by 1",
                month) == [(hub, True, True) for hub in units]
    assert rows(warehouse, "select units_expected, units_reported, completeness from "
                           "quality.submission_scorecard where partner_code = ? and "
                           "report_period = ?", partner, month) == [(2, 2, 1.0)]


def test_a_month_sent_early_is_not_yet_due_and_left_out_of_the_status(warehouse):
    """Before: BrightStart's 2026-11 file (due 2026-12-15) made 2026-11 the latest month:
    whole-area children enrolled 829 (1 of 3 partners) and off track instead of on track."""
    partner, month, _ = PLANTED["early_month"]
    assert rows(warehouse, "select place_code, partners_reporting, partners_expected, "
                           "completeness_state, due_date::varchar from "
                           "marts.indicator_period_totals where indicator_code = "
                           "'children_enrolled' and period = ? and period_type = 'month' and "
                           "place_code in ('all', 'east') order by 1", month) == [
        ("all", 1, 3, "not_yet_due", "2026-12-15"), ("east", 1, 3, "not_yet_due", "2026-12-15")]
    statuses = rows(warehouse, "select place_code, latest_period, latest_value, status, "
                               "status_reason from marts.milestone_status where indicator_code "
                               "= 'children_enrolled' order by 1")
    assert [row[:4] for row in statuses] == [("all", "2026-10", 1901, "on_track"),
                                             ("east", "2026-10", 428, "at_risk")]
    for *_, reason in statuses:
        assert reason.endswith("Left out as not complete: 2026-11 (not yet due: 1 of 3 "
                               "partners reported, due 2026-12-15).")
    # The quarter it belongs to is not complete either.
    assert rows(warehouse, "select completeness_state, periods_complete, periods_in_period from "
                           "marts.indicator_period_totals where indicator_code = "
                           "'children_enrolled' and period = '2026-Q4' and place_code = 'all'"
                ) == [("not_yet_due", 1, 3)]


def test_a_month_with_a_missing_report_is_marked_incomplete(warehouse):
    partner, month = PLANTED["missing"]
    assert rows(warehouse, "select indicator_code, partners_reporting, partners_expected, "
                           "completeness_state from marts.indicator_period_totals where period "
                           "= ? and place_code = 'all' and indicator_code in "
                           "('children_enrolled', 'home_visits') order by 1", month) == [
        ("children_enrolled", 2, 3, "incomplete"), ("home_visits", 1, 2, "incomplete")]


def test_steady_growth_is_not_an_outlier_but_the_lost_digit_still_is(warehouse):
    """Outliers are judged on what each series' trend does not explain."""
    partner, month, value = PLANTED["outlier"]
    assert rows(warehouse, "select severity from quality.value_flags where rule = 'outlier' "
                           "and partner_code = ? and period = ? and place_code = 'north' and "
                           "outcome = 'current'", partner, month) == [("extreme",)]
    # No series has its latest months flagged for following its own trend: at most one of
    # each series' last three values is flagged, and none of them with a run of flags.
    [(runs,)] = rows(warehouse, """
        with flagged as (
            select partner_code, reporting_unit, indicator_code, place_code, disaggregation,
                count(*) as flags
            from quality.value_flags
            where rule = 'outlier' and outcome = 'current' and period >= '2026-08'
            group by all
        )
        select count(*) from flagged where flags >= 2""")
    assert runs == 0
