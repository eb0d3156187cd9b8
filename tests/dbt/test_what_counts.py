"""What a submission replaces, which months count and how a ratio adds up, on a purpose-built
initiative (tests/dbt/what_counts) whose inbox is written here, file by file, with arrival times.

Each scenario is one of the findings of "Numbers a steering committee can trust": a junk file
that is not the agreed template, an explicit withdrawal, files that add up (additive), a
partner's reporting units, the period taken from a Spanish file name, a ratio with one part
quarantined, and months that are incomplete or not yet due.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from murmuration.intake.arrivals import record as record_arrivals
from tests.conftest import build_outside_dagster, copy_initiative

pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).parent / "what_counts"
AS_OF = "2025-04-10T00:00:00+00:00"
JUNK_COLUMNS = 50_000

INBOX = {
    # Alpha: a good January file, then a junk export with 50,000 columns and one row.
    "alpha/alpha_2025-01.csv": ("2025-02-05", "Month,Area,Indicator,Count\n"
                                "2025-01,North,reached,40\n2025-01,South,reached,60\n"),
    "alpha/alpha_2025-02.csv": ("2025-03-05", "Month,Area,Indicator,Count\n"
                                "2025-02,North,reached,45\n2025-02,South,reached,65\n"),
    # ... February corrected: North changed, South withdrawn (sent by mistake).
    "alpha/alpha_2025-02_correction.csv": ("2025-03-10", "Month,Area,Indicator,Count\n"
                                           "2025-02,North,reached,47\n"
                                           "2025-02,South,reached,withdrawn\n"),
    "alpha/alpha_2025-03.csv": ("2025-04-05", "Month,Area,Indicator,Count\n"
                                "2025-03,North,reached,50\n2025-03,South,reached,70\n"),
    # Beta reports one file per site: they add up (supersede_by: additive).
    "beta/site_a_2025-01.csv": ("2025-02-03", "Month,Area,Indicator,Count\n"
                                "2025-01,North,reached,10\n"),
    "beta/site_b_2025-01.csv": ("2025-02-04", "Month,Area,Indicator,Count\n"
                                "2025-01,North,reached,5\n2025-01,South,reached,7\n"),
    "beta/site_a_2025-02.csv": ("2025-03-03", "Month,Area,Indicator,Count\n"
                                "2025-02,North,reached,11\n"),
    "beta/site_a_2025-03.csv": ("2025-04-03", "Month,Area,Indicator,Count\n"
                                "2025-03,North,reached,12\n"),
    # Gamma's offices: a consolidated January, then Office B resends its own part.
    "gamma/consolidated_2025-01.csv": ("2025-02-06", "Month,Office,Area,Count\n"
                                       "2025-01,Office A,North,20\n2025-01,B office,North,30\n"
                                       "2025-01,Office B,South,5\n2025-01,Office Z,South,9\n"),
    # (South resent too: a return that left South out would be held for review.)
    "gamma/office_b_2025-01.csv": ("2025-02-12", "Month,Office,Area,Count\n"
                                   "2025-01,Office B,North,33\n2025-01,Office B,South,6\n"),
    # Delta leaves the month cell empty: the file name says it, in Spanish.
    "delta/delta_Enero_2025.csv": ("2025-02-08", "Mes,Area,Count\n,North,12\n,South,8\n,,0\n"),
    "delta/delta_Febrero_2025.csv": ("2025-03-08", "Mes,Area,Count\nfebrero 2025,North,13\n"
                                     ",South,9\n"),
    # Epsilon: a ratio's numerator for North/male is not a number; its denominator is fine.
    "epsilon/e_2025-01.csv": ("2025-02-07", "Month,Area,Indicator,Sex,Count\n"
                              "2025-01,North,vaccinated,f,40\n2025-01,North,eligible,f,50\n"
                              "2025-01,North,vaccinated,m,x\n2025-01,North,eligible,m,50\n"
                              "2025-01,South,vaccinated,f,45\n2025-01,South,eligible,f,50\n"),
}


def junk_csv() -> str:
    """The agreed four columns and 49,996 unknown ones, one data row."""
    header = ["Month", "Area", "Indicator", "Count"] + [f"c{n}" for n in range(5, JUNK_COLUMNS + 1)]
    row = ["2025-01", "North", "reached", "1"] + ["x"] * (JUNK_COLUMNS - 4)
    return ",".join(header) + "\n" + ",".join(row) + "\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory, dbt_manifest):
    paths = copy_initiative(FIXTURE, tmp_path_factory.mktemp("what_counts") / "initiative")
    files = {**INBOX, "alpha/junk_2025-01.csv": ("2025-02-20", junk_csv())}
    for name, (arrived, text) in files.items():
        path = paths.inbox_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        # Arrived when the pipeline first saw it (as a sensor would have recorded it).
        record_arrivals(paths, [path], "recorded",
                        datetime.fromisoformat(arrived).replace(hour=9, tzinfo=UTC))
    build_outside_dagster(paths, AS_OF)
    return paths


@pytest.fixture(scope="module")
def warehouse(built):
    con = duckdb.connect(str(built.warehouse), read_only=True)
    yield con
    con.close()


def rows(con, sql, *parameters):
    return con.execute(sql, list(parameters)).fetchall()


def values(con, partner, period):
    return dict(rows(con, "select place_code || coalesce('/' || nullif(reporting_unit, ''), ''), "
                          "value from marts.indicator_values where partner_code = ? and "
                          "period = ? and indicator_code = 'reached'", partner, period))


def test_a_file_that_is_not_the_agreed_template_is_quarantined_and_replaces_nothing(warehouse):
    [(message, data_rows, quarantined, unused)] = rows(
        warehouse, "select message, data_rows, rows_quarantined, unused_column_count "
                   "from marts.submissions where file_name = 'junk_2025-01.csv'")
    assert message.startswith("not the agreed template: 49,996 of its 50,000 columns are not "
                              "in the mapping ('c5', 'c6', 'c7', 'c8', 'c9', ...)")
    assert (data_rows, quarantined, unused) == (1, 1, 49_996)
    assert values(warehouse, "alpha", "2025-01") == {"north": 40, "south": 60}
    assert rows(warehouse, "select count(*) from marts.superseded_submissions "
                           "where partner_code = 'alpha' and period = '2025-01'") == [(0,)]


def test_a_withdrawal_removes_the_value_it_names(warehouse):
    assert values(warehouse, "alpha", "2025-02") == {"north": 47}
    [row] = rows(warehouse, "select slices_superseded, values_changed, values_withdrawn, "
                            "values_removed, values_unchanged from marts.superseded_submissions "
                            "where partner_code = 'alpha' and period = '2025-02'")
    assert row == (1, 1, 1, 0, 0)
    [(outcome,)] = rows(warehouse, "select outcome from intermediate.int_records_outcomes "
                                   "where value_text = 'withdrawn'")
    assert outcome == "withdrawn"


def test_additive_files_add_up(warehouse):
    assert values(warehouse, "beta", "2025-01") == {"north": 15, "south": 7}
    assert rows(warehouse, "select count(*) from marts.superseded_submissions "
                           "where partner_code = 'beta'") == [(0,)]


def test_a_reporting_unit_replaces_only_its_own_values(warehouse):
    assert values(warehouse, "gamma", "2025-01") == {"north/office_a": 20,
                                                     "north/office_b": 33, "south/office_b": 6}
    [row] = rows(warehouse, "select reporting_unit, values_changed, values_removed "
                            "from marts.superseded_submissions where partner_code = 'gamma'")
    assert row == ("office_b", 2, 0)  # North 30 -> 33, South 5 -> 6; Office A's North stays
    [(reason,)] = rows(warehouse, "select quarantine_reason from marts.quarantined_values "
                                  "where partner_code = 'gamma'")
    assert reason == "'Office Z' is not a reporting unit of Gamma (known: Office A, Office B)"


def test_the_period_comes_from_the_file_name_when_the_cell_is_empty(warehouse):
    assert values(warehouse, "delta", "2025-01") == {"north": 12, "south": 8}
    assert values(warehouse, "delta", "2025-02") == {"north": 13, "south": 9}
    [(empty, data, quarantined)] = rows(
        warehouse, "select empty_rows, data_rows, rows_quarantined from marts.submissions "
                   "where file_name = 'delta_Enero_2025.csv'")
    assert (empty, data, quarantined) == (1, 2, 0)  # the ',,0' template row is not data
    [(source, text)] = rows(warehouse, "select distinct period_source, period_text from "
                                       "intermediate.int_records_resolved where "
                                       "file_name = 'delta_Enero_2025.csv'")
    assert (source, text) == ("file name", "Enero 2025 (file name 'delta_Enero_2025.csv')")


def test_a_ratio_sums_only_units_where_both_parts_were_accepted(warehouse):
    totals = {place: (round(value, 1), numerator, denominator, unpaired)
              for place, value, numerator, denominator, unpaired in rows(
                  warehouse, "select place_code, value, numerator_value, denominator_value, "
                             "parts_unpaired from marts.indicator_period_totals where "
                             "indicator_code = 'coverage' and period_type = 'month'")}
    assert totals == {"north": (80.0, 40, 50, 1), "south": (90.0, 45, 50, 0),
                      "all": (85.0, 85, 100, 1)}


def test_totals_carry_completeness_and_status_uses_complete_months_only(warehouse):
    states = rows(warehouse, "select period, partners_reporting, partners_expected, "
                             "completeness_state, due_date::varchar from "
                             "marts.indicator_period_totals where indicator_code = 'reached' "
                             "and place_code = 'all' and period_type = 'month' order by 1")
    assert states == [("2025-01", 4, 4, "complete", "2025-02-15"),
                      ("2025-02", 3, 4, "incomplete", "2025-03-15"),
                      ("2025-03", 2, 4, "not_yet_due", "2025-04-15")]
    [(status, reason)] = rows(warehouse, "select status, status_reason from "
                                         "marts.milestone_status")
    assert status == "no_data"
    assert reason.endswith("Left out as not complete: 2025-02 (incomplete: 3 of 4 partners "
                           "reported); 2025-03 (not yet due: 2 of 4 partners reported, due "
                           "2025-04-15).")


def test_the_run_summary_names_what_a_person_should_look_at(built, warehouse):
    from app.summary import summarise

    lines = summarise(built).lines()
    text = "\n".join(lines)
    assert ("  alpha/junk_2025-01.csv: not the agreed template: 49,996 of its 50,000 columns are "
            "not in the mapping") in text
    assert "Latest periods left out of milestone status (not complete):" in text
    assert "  People reached: 2025-02 (incomplete: 3 of 4 partners)" in text
    assert "  People reached: 2025-03 (not yet due: 2 of 4 partners)" in text
    assert ("Superseded:  2 resubmissions for a partner and period, in 2 slices (0 values added, "
            "3 changed, 0 removed, 1 withdrawn, 0 unchanged)") in lines


def test_the_dbt_unit_tests_pass_in_the_test_suite(built):
    """Runs leave dbt's unit tests out (orchestration/defs/dbt/assets.py: they check the models'
    logic on fixed inputs, not partners' data); the suite runs every one of them here."""
    manifest = json.loads((built.state_dir / "dbt" / "check" / "manifest.json").read_text())
    declared = set(manifest["unit_tests"])
    results = json.loads((built.state_dir / "dbt" / "check" / "run_results.json").read_text())
    ran = {r["unique_id"]: r["status"] for r in results["results"]
           if r["unique_id"].startswith("unit_test.")}
    assert len(declared) >= 6
    assert ran == {unique_id: "pass" for unique_id in declared}
