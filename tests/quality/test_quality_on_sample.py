"""Every quality rule catches what was planted in the sample, and passes what is clean."""

from __future__ import annotations

import csv

import pytest

from murmuration.sample_inbox import PLANTED

pytestmark = pytest.mark.slow


def rows(con, sql, *parameters):
    return con.execute(sql, list(parameters)).fetchall()


def test_outliers_catch_the_lost_digit_and_spare_clean_series(serving):
    partner, period, text = PLANTED["outlier"]
    [(severity, value, low, high)] = rows(
        serving, "select severity, value, expected_low, expected_high from quality.value_flags "
        "where rule = 'outlier' and partner_code = ? and period = ? and place_code = 'north' "
        "and outcome = 'current'", partner, period)
    assert severity == "extreme" and value == pytest.approx(int(text) / 60)
    assert low < value / 3 and high < value / 3
    # A partner's normal months: children_age_2 has no extreme outliers anywhere.
    assert rows(serving, "select count(*) from quality.value_flags where rule = 'outlier' "
                "and severity = 'extreme' and indicator_code = 'children_age_2'") == [(0,)]


def test_consistency_over_time_catches_the_december_closure(serving):
    partner, period, share = PLANTED["inconsistent_month"]
    [(value, low, high, statistic)] = rows(
        serving, "select value, expected_low, expected_high, statistic from quality.value_flags "
        "where rule = 'consistency_over_time' and partner_code = ? and period = ? "
        "and indicator_code = 'home_visits'", partner, period)
    assert value < low and statistic.startswith("ratio = 0.4")
    # The health service's steady series is never flagged for consistency.
    assert rows(serving, "select count(*) from quality.value_flags where partner_code = "
                "'riverside_health' and rule = 'consistency_over_time'") == [(0,)]


def test_relations_catch_more_immunised_than_eligible_only(serving):
    partner, period, place, sex = PLANTED["more_immunised_than_eligible"]
    flagged = rows(serving, "select rule, partner_code, period, place_code, disaggregation "
                   "from quality.relation_flags order by rule")
    assert flagged == [("relation_at_least", partner, period, place, f"sex={sex}"),
                       ("relation_ratio_range", partner, period, place, f"sex={sex}")]


def test_completeness_and_timeliness_follow_arrivals_and_due_dates(serving):
    late_partner, late_period = PLANTED["late"]
    [(received, on_time, days_late, due)] = rows(
        serving, "select received, on_time, days_late, due_date from "
        "quality.partner_period_reports where partner_code = ? and report_period = ?",
        late_partner, late_period)
    assert (received, on_time, days_late, str(due)) == (True, False, 42, "2025-04-15")
    missing_partner, missing_period = PLANTED["missing"]
    assert rows(serving, "select expected, received, on_time from quality.partner_period_reports "
                "where partner_code = ? and report_period = ?", missing_partner,
                missing_period) == [(True, False, False)]
    # 2026-10 reports were due by mid-November 2026: all in, all on time; 2026-11 is not yet
    # due, and only BrightStart's early report is there (received, not yet expected).
    assert rows(serving, "select count(*), count(*) filter (where on_time) from "
                "quality.partner_period_reports where report_period = '2026-10'") == [(9, 9)]
    assert rows(serving, "select partner_code, expected, received from "
                "quality.partner_period_reports where report_period = '2026-11'") == [
        (PLANTED["early_month"][0], False, True)]
    # A partner is expected from when it joined (its first submission), not from the start.
    joined_partner, joined = PLANTED["joined_late"]
    assert rows(serving, "select min(report_period), count(*) filter (where not received) "
                "from quality.partner_period_reports where partner_code = ? and expected",
                joined_partner) == [(joined, 0)]


def test_zero_is_not_missing(serving):
    partner, period, _ = PLANTED["zero_reported"]
    assert rows(serving, "select zeros_reported, values_missing from quality.submission_scorecard "
                "where partner_code = ? and report_period = ?", partner, period) == [(1, 0)]
    partner, period, _ = PLANTED["unknown_place"]  # the quarantined row leaves a gap
    assert rows(serving, "select zeros_reported, values_missing from quality.submission_scorecard "
                "where partner_code = ? and report_period = ?", partner, period) == [(0, 1)]


def test_resubmission_resolves_the_flags_it_corrected(serving):
    partner, period = PLANTED["resubmitted"]
    assert rows(serving, "select flags_resolved, outliers_extreme from "
                "quality.submission_scorecard where partner_code = ? and report_period = ?",
                partner, period) == [(4, 0)]


def test_composite_score_follows_its_documented_rule(serving):
    weights = dict(zip(["c", "t", "v", "p"], rows(
        serving, "select weight_completeness, weight_timeliness, weight_validity, "
        "weight_plausibility from marts.initiative")[0], strict=True))
    for received, on_time, accepted, data, not_data, reported, flags, score in rows(
            serving, "select received, on_time, rows_accepted, data_rows, rows_not_data, "
            "values_reported, outliers_moderate + outliers_extreme + consistency_flags + "
            "relation_flags, score from quality.submission_scorecard"):
        if not received:
            assert score == 0
            continue
        validity = accepted / (data - not_data)
        plausibility = max(0.0, 1 - flags / reported)
        expected = 100 * (weights["c"] + weights["t"] * on_time + weights["v"] * validity
                          + weights["p"] * plausibility)
        assert score == pytest.approx(expected, abs=0.051)  # the score is rounded to 0.1


def test_partner_scorecard_against_who_targets(serving):
    card = {r[0]: r[1:] for r in rows(
        serving, "select partner_code, reports_expected, completeness, timeliness, "
        "meets_completeness_target, meets_timeliness_target from quality.partner_scorecard")}
    assert set(card) == {"brightstart", "little_steps", "riverside_health", "family_hub",
                         "parents_together", "library_service", "housing_trust",
                         "childcare_info", "community_centres"}
    assert card["housing_trust"] == (12, 1.0, 11 / 12, True, True)  # 2025-12 arrived late


def test_feedback_packs_escape_markup_and_neutralise_formulas(sample_run):
    partner = PLANTED["markup_place"][0]
    folder = sample_run.paths.state_dir / "feedback" / partner
    page = (folder / "index.html").read_text()
    assert "&lt;b onmouseover=alert(1)&gt;Northgate&lt;/b&gt;" in page
    assert "<b onmouseover" not in page
    with (folder / "quarantined.csv").open(encoding="utf-8-sig", newline="") as handle:
        cells = [row["value as written"] for row in csv.DictReader(handle)]
    assert "'" + PLANTED["formula_value"][2] in cells
    assert not any(cell.startswith("=") for cell in cells)
    packs = sorted(p.name for p in (sample_run.paths.state_dir / "feedback").iterdir())
    assert packs == ["brightstart", "childcare_info", "community_centres", "family_hub",
                     "housing_trust", "library_service", "little_steps", "parents_together",
                     "riverside_health"]
    # Each CSV has its header and at least one row (a BOM and a header alone are not a pack).
    for name, first in (("accepted.csv", "period"), ("quarantined.csv", "file"),
                        ("flags.csv", "rule"), ("scorecard.csv", "period")):
        with (folder / name).open(encoding="utf-8-sig", newline="") as handle:
            table = list(csv.reader(handle))
        assert table[0][0] == first and len(table) > 1, (name, table[:2])


def test_feedback_packs_are_rewritten_only_for_partners_whose_rows_changed(sample_run):
    """Writing every partner's pack every run cost a minute at national scale: a pack whose
    published rows did not change is kept."""
    from murmuration.feedback import FINGERPRINT_FILE, write_feedback_packs

    assert write_feedback_packs(sample_run.paths) == []  # nothing changed since the run
    marker = sample_run.paths.state_dir / "feedback" / "housing_trust" / FINGERPRINT_FILE
    marker.write_text("stale")
    assert [pack.partner_code for pack in write_feedback_packs(sample_run.paths)] == [
        "housing_trust"]
    assert marker.read_text() != "stale"


def test_a_pack_whose_rows_stay_the_same_is_kept_when_what_they_were_built_from_changed(
        sample_run, tmp_path):
    """A registry or codes change rebuilds a partner's rows (its inputs' hash changes) though
    they mostly stay as they were: every pack of the partners a mapping serves was written
    again (10 s at the benchmark's size M for a code no file used). The rows are compared for
    those partners: the same rows keep the pack; a name the pack quotes, changed, does not."""
    import shutil

    import duckdb

    from murmuration.feedback import FINGERPRINT_FILE, write_feedback_packs
    from murmuration.paths import ProjectPaths

    shutil.copytree(sample_run.paths.project_dir, tmp_path / "sample")
    paths = ProjectPaths.for_project(tmp_path / "sample")
    marker = paths.state_dir / "feedback" / "housing_trust" / FINGERPRINT_FILE
    inputs, rows = marker.read_text().split("\n")
    marker.write_text(f"built-from-other-inputs\n{rows}")
    assert write_feedback_packs(paths) == []
    assert marker.read_text() == f"{inputs}\n{rows}"  # what it is built from now, recorded

    con = duckdb.connect(str(paths.serving))
    con.execute("update marts.indicators set short_name = short_name || ' (renamed)'")
    con.close()
    marker.write_text(f"built-from-other-inputs\n{rows}")
    assert [pack.partner_code for pack in write_feedback_packs(paths)] == ["housing_trust"]
    assert "(renamed)" in (marker.parent / "accepted.csv").read_text(encoding="utf-8-sig")
