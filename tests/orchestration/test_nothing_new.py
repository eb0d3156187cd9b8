"""Nothing new, nothing run (murmuration/nothing_new.py). Found: a run with nothing new still
started Dagster and ran all of dbt's nodes and the checks (37 s at M, half a minute on the sample)
to publish what was already published.

What a run starts from is one fingerprint; these tests change each part of it and see the run
run, and leave it alone and see the run stand on the last one, without starting anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from app.summary import EXIT_NOT_READ
from murmuration import nothing_new
from murmuration.environment import OFFLINE
from murmuration.paths import AS_OF_ENV, SAMPLE_PROJECT_DIR, ProjectPaths
from tests.conftest import SAMPLE_AS_OF, copy_initiative


@pytest.fixture
def kept(tmp_path, monkeypatch) -> ProjectPaths:
    """A copy of the sample's definitions with an inbox file and a 'published' snapshot, whose
    fingerprint is kept as a trusted run would keep it."""
    monkeypatch.setenv(AS_OF_ENV, SAMPLE_AS_OF)
    paths = copy_initiative(SAMPLE_PROJECT_DIR, tmp_path / "initiative")
    (paths.inbox_dir / "brightstart").mkdir(parents=True)
    (paths.inbox_dir / "brightstart" / "enrolment_2026-10.csv").write_text("Month,Children\n")
    paths.state_dir.mkdir(parents=True, exist_ok=True)
    paths.serving.write_bytes(b"a published snapshot")
    nothing_new.remember(paths, nothing_new.fingerprint(paths),
                         published_at="2026-11-29T06:00:00+00:00")
    assert nothing_new.unchanged(paths) == nothing_new.Unchanged("2026-11-29T06:00:00+00:00")
    return paths


def _touch(path, seconds: int = 60):
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + seconds * 10**9))


CHANGES = {
    "a new file in the inbox": lambda p, _: (p.inbox_dir / "brightstart" / "late.csv")
    .write_text("Month,Children\n"),
    "a file in the inbox rewritten": lambda p, _: _touch(
        p.inbox_dir / "brightstart" / "enrolment_2026-10.csv"),
    "a file in the inbox removed": lambda p, _: (
        p.inbox_dir / "brightstart" / "enrolment_2026-10.csv").unlink(),
    "a new partner folder with a file": lambda p, _: (
        (p.inbox_dir / "little_steps").mkdir(),
        (p.inbox_dir / "little_steps" / "a.csv").write_text("x\n")),
    "a mapping changed": lambda p, _: next(p.mappings_dir.glob("*.yaml")).open("a")
    .write("\n# reviewed\n"),
    "a registry file changed": lambda p, _: (p.registry_dir / "indicators.yaml").open("a")
    .write("\n"),
    "the initiative file changed": lambda p, _: p.initiative_file.open("a").write("\n"),
    "a replacement accepted": lambda p, _: p.accepted_file.write_text('{"accepted": ["x"]}'),
    "another day to judge reports against": lambda p, mp: mp.setenv(
        AS_OF_ENV, "2026-11-30T00:00:00+00:00"),
    "a setting that changes a run": lambda p, mp: mp.setenv("MURMURATION_WAREHOUSE", "postgresql://127.0.0.1/x"),
    "the published snapshot replaced": lambda p, _: p.serving.write_bytes(b"another snapshot"),
    "a run started writing (and was killed)": lambda p, _: nothing_new.forget(p),
    "the kept record damaged": lambda p, _: nothing_new.record_file(p).write_text("{not json"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_any_change_to_what_a_run_starts_from_makes_the_run_run(kept, monkeypatch, change):
    CHANGES[change](kept, monkeypatch)
    assert nothing_new.unchanged(kept) is None


def test_what_a_run_does_not_depend_on_leaves_it_standing(kept, monkeypatch):
    # A later moment of the same day, the ports the servers listen on, a user added, a note in
    # the learning log: the same snapshot would be published.
    monkeypatch.setenv(AS_OF_ENV, "2026-11-29T23:59:00+00:00")
    monkeypatch.setenv("MURMURATION_DASHBOARD_PORT", "18050")
    monkeypatch.setenv("MURMURATION_DUCKDB_THREADS", "1")
    (kept.project_dir / "users.yaml").write_text("users: []\n")
    kept.learning_log.write_bytes(b"notes")
    (kept.state_dir / "logs").mkdir()
    assert nothing_new.unchanged(kept) == nothing_new.Unchanged("2026-11-29T06:00:00+00:00")


def test_a_code_change_makes_the_run_run(kept, monkeypatch):
    monkeypatch.setattr(nothing_new, "code_fingerprint", lambda: "another version")
    assert nothing_new.unchanged(kept) is None


def test_no_record_without_a_published_snapshot(tmp_path):
    paths = copy_initiative(SAMPLE_PROJECT_DIR, tmp_path / "initiative")
    nothing_new.remember(paths, nothing_new.fingerprint(paths))
    assert not nothing_new.record_file(paths).exists()
    assert nothing_new.unchanged(paths) is None


def run_cli(paths: ProjectPaths, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "run", "--project", str(paths.project_dir), *args],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, **OFFLINE, AS_OF_ENV: SAMPLE_AS_OF})


def test_the_sample_run_again_with_nothing_new_runs_nothing(sample_run):
    """The session's sample run (exit 3: two planted files can't be read) run again as it is:
    nothing new, so it says so without starting Dagster, dbt or the checks, and exits 3 as the
    run did: the two files not read are still in the inbox (state, not the last run's memory);
    the warehouse, the published snapshot and the last run's log are untouched."""
    paths = sample_run.paths
    record = json.loads(nothing_new.record_file(paths).read_text())
    assert record["serving"][0] == paths.serving.stat().st_size
    before = {p: p.stat().st_mtime_ns for p in (paths.warehouse, paths.serving,
                                               paths.state_dir / "logs" / "last_run.log")}
    started = time.monotonic()
    again = run_cli(paths)
    elapsed = time.monotonic() - started
    assert again.returncode == EXIT_NOT_READ, again.stdout + again.stderr
    lines = again.stdout.strip().splitlines()
    assert lines[0].startswith("Nothing new since the snapshot published ")
    assert "Nothing was run" in lines[0] and "--force" in lines[0]
    assert any(line.startswith("  library_service/library_service_2026-01_final.csv: "
                               "unreadable - the file is empty") for line in lines)
    assert lines[-1].startswith("Done in ")
    assert lines[-1].endswith("s; 2 files could not be read (exit code 3).")
    assert {p: p.stat().st_mtime_ns for p in before} == before
    assert "Running the pipeline" not in again.stdout and again.stderr == ""
    print(f"nothing-new run of the sample: {elapsed:.1f} s")  # the figure is make bench's
