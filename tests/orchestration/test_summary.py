"""The run summary's milestones are the published ones: after a run that built marts but
published nothing (a blocking check failed), it never shows statuses only built."""

from __future__ import annotations

import shutil

import duckdb

from app.summary import summarise
from murmuration.paths import ProjectPaths


def test_milestones_come_from_the_published_snapshot_not_the_warehouse(sample_run, tmp_path):
    paths = ProjectPaths.for_project(tmp_path / "initiative", tmp_path / "state")
    paths.state_dir.mkdir(parents=True)
    shutil.copy(sample_run.paths.warehouse, paths.warehouse)
    shutil.copy(sample_run.paths.serving, paths.serving)
    published = summarise(paths).milestones
    assert published and any(status != "off_track" for _, _, status in published)
    # A later run builds other statuses, then a blocking check stops it from publishing them.
    con = duckdb.connect(str(paths.warehouse))
    try:
        con.execute("update marts.milestone_status set status = 'off_track'")
    finally:
        con.close()
    summary = summarise(paths, run_published=False)
    assert summary.milestones == published
    lines = summary.lines()
    header = next(line for line in lines if line.startswith("Milestones"))
    assert header.startswith("Milestones: this run published nothing; the dashboard still shows "
                             "the snapshot published ")


def test_a_step_failing_after_publishing_says_the_new_snapshot_is_published():
    """The feedback packs failing after the snapshot was swapped in: the run fails (exit 1) and
    says the dashboard shows the new snapshot, not that the previous one was kept."""
    from app.summary import EXIT_FAILED, outcome

    code, line = outcome(78, False, failure="step(s) failed: feedback_packs", published=True)
    assert code == EXIT_FAILED
    assert "after the new snapshot was published (the dashboard shows it" in line
    assert "previous" not in line
    code, line = outcome(78, False, failure="step(s) failed: harmonised_models")
    assert code == EXIT_FAILED and "The previous published snapshot (if any) was kept" in line
