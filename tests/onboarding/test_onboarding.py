"""Onboarding a format: the suggested mapping, and the check that reports what would fail."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
import yaml

from murmuration.onboarding import analyse, check_mapping, suggestion_yaml
from murmuration.registry import load_registry
from tests.conftest import REALDATA


def draft(path, registry, folder):
    return yaml.safe_load(suggestion_yaml(analyse(path, registry), folder, path.name))


def test_suggest_a_long_csv_finds_roles_breakdowns_and_formats(sample_paths):
    registry = load_registry(sample_paths)
    mapping = draft(sample_paths.inbox_dir / "little_steps" / "little_steps_2025-03.csv",
                    registry, "little_steps")
    assert mapping["columns"] == {
        "period": "Reporting month", "place": "Area", "indicator": "Indicator", "value": "Value",
        "disaggregations": {"sex": "Sex", "age_band": "Age"}}
    assert "period_formats" not in mapping  # 'Mar 2025' needs no format
    # Texts the registry does not know are left for a person to map, never guessed.
    assert mapping["codes"]["indicator"] == {"Enrolled children": "TODO",
                                             "Story time (minutes)": "TODO"}


def test_suggest_a_wide_workbook_finds_the_header_under_title_rows(sample_paths):
    registry = load_registry(sample_paths)
    mapping = draft(sample_paths.inbox_dir / "parents_together" /
                    "parents_together_2025-03.xlsx", registry, "parents_together")
    assert mapping["reader"] == {"header_row": 3, "sheet": "Monthly figures"}
    assert mapping["layout"] == "wide"
    values = {v["column"]: v for v in mapping["values"]}
    assert values["Home visits"]["indicator"] == "home_visits"
    assert values["Girls 3-4"]["disaggregation"] == {"sex": "f", "age_band": "3-4"}
    assert values["Girls 3-4"]["indicator"] == "TODO"


def test_suggest_reads_hxl_hashtags_on_a_real_3w_export():
    path = REALDATA / "rowca_ors_3w_2014" / "rowca-3w-hxl.csv"
    if not path.exists():
        pytest.skip("real data not on this machine")
    suggestion = analyse(path)
    assert (suggestion.header_row, suggestion.hxl_row) == (1, 2)
    assert suggestion.roles["partner"].header == "Organization"
    assert suggestion.roles["period"].header == "MONTH"
    # 'June' has no year: a default year is proposed, with where it came from.
    assert suggestion.period_formats == [] and suggestion.period_default_year is not None
    assert any(note.startswith("period: month names without a year ('June')")
               for note in suggestion.notes)


def test_check_reports_ready_and_not_ready(sample_paths):
    def state():
        return sorted((p.relative_to(sample_paths.state_dir), p.stat().st_mtime_ns)
                      for p in sample_paths.state_dir.rglob("*"))

    before = state()  # the sample's recorded arrivals, nothing else
    registry = load_registry(sample_paths)
    clean = check_mapping(sample_paths, registry, sample_paths.inbox_dir / "little_steps" /
                          "little_steps_2025-03.csv", "little_steps")
    assert clean.ready and (clean.data_rows, clean.rows_accepted) == (20, 20)

    bad = check_mapping(sample_paths, registry, sample_paths.inbox_dir / "library_service" /
                        "library_service_2025-09.csv", "library_service")
    assert not bad.ready and bad.rows_quarantined == 1
    [(reason, count, example)] = bad.reasons
    assert reason.startswith("'Nortgate' is not a known place")
    assert example == "row 2, column Minutes of reading sessions"
    assert state() == before  # the check wrote nothing to the initiative


def test_check_is_ready_with_declared_totals_and_empty_template_rows(sample_paths):
    """Finding: a file whose only quarantined rows were declared totals and empty template
    rows was 'Not ready' (exit 1): the template, not the partner, decided readiness."""
    registry = load_registry(sample_paths)
    report = check_mapping(sample_paths, registry, sample_paths.inbox_dir / "family_hub" /
                           "north_east_hub" / "family_hub_return_2026-09.xlsx", "family_hub")
    assert (report.data_rows, report.rows_accepted, report.rows_quarantined,
            report.summary_rows, report.empty_rows) == (3, 2, 1, 1, 1)
    assert report.ready
    text = "\n".join(report.lines())
    assert "Empty:    1 blank or empty template rows (not data)" in text
    assert "Ready: every row that carries values is accepted; the others are quarantined " \
        "for reasons the mapping declares." in text


def test_check_prints_the_periods_it_resolved_and_warns_about_odd_ones(sample_paths):
    """Finding: `check` never showed the periods it resolved ('Sept %Y' put September in
    January and still said '12 rows accepted')."""
    registry = load_registry(sample_paths)
    sample = sample_paths.inbox_dir / "little_steps" / "little_steps_2025-11.csv"
    report = check_mapping(sample_paths, registry, sample, "little_steps")
    assert report.periods == [("2025-10", "Oct 2025", 4, "cell"),
                              ("2025-11", "Nov 2025", 20, "cell")]
    assert "Periods:  2025-10 <- Oct 2025 (4 rows); 2025-11 <- Nov 2025 (20 rows)" in \
        report.lines()
    assert report.warnings == []  # it arrived on 2025-12-11
    # Arriving before a month starts, or more than a year after it, is worth a look.
    early = datetime(2025, 10, 20, tzinfo=UTC).timestamp()
    os.utime(sample, (early, early))
    report = check_mapping(sample_paths, registry, sample, "little_steps")
    assert report.warnings == [
        "period 2025-11 (Nov 2025, 20 rows) starts after the file arrived (2025-10-20): an "
        "early report or a misread period"]
    late = datetime(2027, 3, 1, tzinfo=UTC).timestamp()
    os.utime(sample, (late, late))
    report = check_mapping(sample_paths, registry, sample, "little_steps")
    # Grouped: one warning for the months more than a year old, not one per month.
    assert report.warnings == [
        "2 periods (2025-10..2025-11, 24 rows) are more than a year before the file arrived "
        "(2027-03-01): check the year; for history sent long ago, record when it was sent "
        "(murmuration arrivals set), else its reports are scored as arrival unknown"]


def test_mapping_commands_exit_codes(sample_paths):
    command = [sys.executable, "-m", "app.cli", "mapping"]
    sample = sample_paths.inbox_dir / "brightstart" / "brightstart_enrolment_2025-03.csv"
    ready = subprocess.run([*command, "check", str(sample), "--project",
                            str(sample_paths.project_dir)], capture_output=True, text=True)
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert "16 data rows = 16 accepted + 0 quarantined" in ready.stdout
    unknown = sample_paths.inbox_dir / "brightstart" / "notes.txt"
    unknown.write_text("not data")
    missing = subprocess.run([*command, "check", str(unknown), "--project",
                              str(sample_paths.project_dir)], capture_output=True, text=True)
    assert missing.returncode == 1 and "no mapping" in missing.stdout
    output = sample_paths.project_dir / "draft.yaml"
    suggest = subprocess.run([*command, "suggest", str(sample), "--project",
                              str(sample_paths.project_dir), "--output", str(output)],
                             capture_output=True, text=True)
    assert suggest.returncode == 0, suggest.stderr
    # 'Organisation' names one organisation for the whole file, and the file is in a partner's
    # inbox folder: the folder says who reported.
    text = output.read_text()
    assert "partner" not in yaml.safe_load(text)
    assert ("partner: not 'Organisation', which names one organisation for the whole file; "
            "the inbox folder 'brightstart' is the partner") in text


def test_suggest_on_every_real_folder_finds_the_sheet_and_header_and_no_wrong_role():
    """Each file of ../shared/realdata whose template a reviewed mapping covers: the draft's
    sheet and header row are the reviewed ones, and no column gets a role the reviewed mapping
    contradicts (the closing note's table: python -m tests.onboarding.suggest_vs_reviewed)."""
    from tests.onboarding.suggest_vs_reviewed import compare_all

    comparisons = compare_all()
    if not comparisons:
        pytest.skip("real data not on this machine")
    assert {c.folder for c in comparisons} == {
        "dhis2_laos_dengue_2023", "dhis2_sierra_leone_demo", "iati_sierra_leone_2014",
        "rowca_ors_3w_2014", "venezuela_education_5w_2020"}
    for c in comparisons:
        assert c.sheet_and_header_right, (c.file, c.found, c.expected)
        assert c.wrong == [] and c.todo == [], (c.file, c.wrong, c.todo)
    assert sum(len(c.right) for c in comparisons) == 56
