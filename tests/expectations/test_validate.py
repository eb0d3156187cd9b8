"""Which submissions Great Expectations validates again: those whose values, or any column it is
given, changed since their last validation."""

from __future__ import annotations

import shutil

import duckdb

from app.summary import PUBLISHED
from murmuration.paths import ProjectPaths
from murmuration.registry import load_registry


def test_a_value_resolved_to_another_indicator_is_validated_again(sample_run, tmp_path):
    """A codes change re-resolves a value's indicator without changing the value: its
    submission was not validated again (only record ids and values were compared), so its
    results told of the old indicator's definition."""
    from expectations.validate import run_quality

    assert sample_run.returncode in PUBLISHED, sample_run.stdout[-2000:]
    shutil.copytree(sample_run.paths.project_dir, tmp_path / "sample")
    paths = ProjectPaths.for_project(tmp_path / "sample")
    registry = load_registry(paths)

    assert run_quality(paths, registry).validated == {"submission": 0, "published": 0}

    con = duckdb.connect(str(paths.warehouse))
    [(submission_id,)] = con.execute(
        "select min(submission_id) from intermediate.int_records_validated "
        "where extract_problem is null and not is_withdrawal").fetchall()
    con.execute("update intermediate.int_records_validated set indicator_code = 'not_defined' "
                "where record_id = (select min(record_id) from intermediate.int_records_validated "
                "where submission_id = ?)", [submission_id])
    con.close()
    report = run_quality(paths, registry)
    assert report.validated == {"submission": 1, "published": 0}
    assert any(row["submission_id"] == submission_id for row in report.failing["submission"])
