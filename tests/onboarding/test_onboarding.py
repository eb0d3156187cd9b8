"""Onboarding a format: the suggested mapping, and the check that reports what would fail."""

from __future__ import annotations

import subprocess
import sys

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
    assert mapping["period_formats"][0] == "%b %Y"
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
    assert suggestion.period_formats == ["%B"]


def test_check_reports_ready_and_not_ready(sample_paths):
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
    assert not (sample_paths.state_dir).exists()  # the check wrote nothing to the initiative


def test_mapping_commands_exit_codes(sample_paths):
    command = [sys.executable, "-m", "murmuration.cli", "mapping"]
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
    assert suggest.returncode == 0 and yaml.safe_load(output.read_text())["partner"] == {
        "column": "Organisation"}
