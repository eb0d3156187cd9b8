"""Shared fixtures: a copy of the sample initiative in a temporary folder, and one real pipeline
run on it (through the `murmuration run` command) that many tests read from."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from murmuration.environment import OFFLINE, ensure_dbt_manifest
from murmuration.intake.landing import SETTLE_ENV
from murmuration.paths import AS_OF_ENV, REPO_ROOT, SAMPLE_PROJECT_DIR, ProjectPaths
from murmuration.sample_inbox import generate_sample_inbox

REALDATA = Path(os.environ.get("MURMURATION_REALDATA", REPO_ROOT.parent / "shared" / "realdata"))
ARTIFACTS = REPO_ROOT / "artifacts"
SAMPLE_AS_OF = "2026-11-29T00:00:00+00:00"  # reports are judged as of this moment in tests


@dataclass(frozen=True)
class SampleCounts:
    """What the generated sample inbox holds and what a run makes of it (one home for the
    numbers several tests check: the summary, the warehouse, the pipeline page)."""

    files: int = 212  # files in the inbox
    ignored: int = 1  # an Excel lock file
    landed: int = 209
    unreadable: int = 2  # an empty CSV, a damaged workbook
    rows_read: int = 2486  # every row of every landed file, titles and headers too
    data_rows: int = 2103
    accepted: int = 2044
    quarantined: int = 59  # 24 of them the price survey's city rows: its own totals

    def files_line(self, with_unreadable: bool = True) -> str:
        """The summary's Files line (a run whose unreadable files were removed: without)."""
        if with_unreadable:
            return (f"Files:       {self.files} ({self.ignored} ignored, {self.landed} landed, "
                    f"{self.unreadable} unreadable)")
        return (f"Files:       {self.files - self.unreadable} ({self.ignored} ignored, "
                f"{self.landed} landed)")

    def rows_line(self) -> str:
        return (f"Data rows:   {self.data_rows} = {self.accepted} accepted + "
                f"{self.quarantined} quarantined")


SAMPLE = SampleCounts()

os.environ.update(OFFLINE)
# Tests write a file and run at once: files are taken without waiting for them to settle, except
# in the tests about files still being written (tests/intake/test_arrivals.py), which set it.
os.environ.setdefault(SETTLE_ENV, "0")


def copy_initiative(source: Path, target: Path) -> ProjectPaths:
    """The definitions of an initiative (no inbox, no state) copied to ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "initiative.yaml", target / "initiative.yaml")
    for folder in ("registry", "mappings"):
        shutil.copytree(source / folder, target / folder)
    return ProjectPaths.for_project(target)


def build_outside_dagster(paths: ProjectPaths, as_of: str) -> None:
    """Land, map and harmonise an initiative's inbox with the pipeline's own steps (no Dagster:
    murmuration.build), judging due dates as of ``as_of``; dbt failing fails the test."""
    from murmuration.build import build_initiative

    build_initiative(paths, datetime.fromisoformat(as_of), ["build", "--quiet"])


@pytest.fixture
def sample_paths(tmp_path) -> ProjectPaths:
    """A fresh copy of the sample initiative's definitions, with its generated inbox."""
    paths = copy_initiative(SAMPLE_PROJECT_DIR, tmp_path / "sample")
    generate_sample_inbox(paths)
    return paths


@dataclass
class PipelineRun:
    paths: ProjectPaths
    returncode: int
    stdout: str
    stderr: str


def pytest_configure(config):
    """The dbt manifest is written once, before any test (or any pytest-xdist worker) reads it:
    two workers parsing the dbt project at once would write the same target folder."""
    if not hasattr(config, "workerinput"):
        ensure_dbt_manifest()


# Fixtures that run the whole pipeline: a test that asks for one is slow, marked or not (so
# `make test-fast`, -m "not slow and not browser", never starts one).
PIPELINE_FIXTURES = {"sample_run", "two_sample_runs", "sample_users", "warehouse", "serving",
                     "dashboard_url"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if PIPELINE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter):
    """Said at the end of every run, where it is seen: the real partner files were not there,
    so the tests on them (tests/realdata) were skipped, not passed."""
    if not REALDATA.is_dir():
        terminalreporter.write_sep("!", f"real-data tests SKIPPED: {REALDATA} is missing "
                                        "(set MURMURATION_REALDATA to the real partner files)",
                                   yellow=True, bold=True)


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    return ensure_dbt_manifest()


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory, dbt_manifest) -> PipelineRun:
    """The whole pipeline run once on the sample initiative by the real command line."""
    paths = copy_initiative(SAMPLE_PROJECT_DIR, tmp_path_factory.mktemp("run") / "sample")
    generate_sample_inbox(paths)
    completed = subprocess.run(
        [sys.executable, "-m", "app.cli", "run", "--project", str(paths.project_dir)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, **OFFLINE, AS_OF_ENV: SAMPLE_AS_OF})
    return PipelineRun(paths, completed.returncode, completed.stdout, completed.stderr)


# Users for each role (tests sign in as them); partners are bound to two different partners so a
# test can try one's data from the other's session.
PASSWORD = "correct horse battery"
SAMPLE_USERS = {
    "admin": ("admin", {}),
    "steering": ("steering", {}),
    "wg-early": ("working_group", {"working_groups": ["early_learning"]}),
    "brightstart": ("partner", {"partners": ["brightstart"]}),
    "littlesteps": ("partner", {"partners": ["little_steps"]}),
}


def add_users(project_dir: Path) -> dict[str, str]:
    from murmuration.access import UserStore

    store = UserStore(project_dir)
    for username, (role, bound) in SAMPLE_USERS.items():
        if store.get(username) is None:
            store.add(username, role, PASSWORD, **bound)
    return {username: PASSWORD for username in SAMPLE_USERS}


@pytest.fixture(scope="session")
def sample_users(sample_run) -> dict[str, str]:
    """A user per role in the sample run's initiative (user name -> password)."""
    return add_users(sample_run.paths.project_dir)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def two_sample_runs(tmp_path_factory, dbt_manifest):
    """The sample run twice with files arriving in between (tests/digest/scenario.py): what the
    digest and the "What changed" page compare. Shared: four pipeline runs would cost minutes."""
    from tests.digest.scenario import two_runs

    return two_runs(tmp_path_factory.mktemp("two_runs"))


# What a build published, to compare two builds of the same initiative (incremental against
# fresh, a run after a crash against a clean one); columns that record when or where differ.
VOLATILE = {"landed_at", "validated_at", "published_at", "received_path", "inbox_path",
            "as_of", "build_fingerprint", "definitions_fingerprint", "partner_inputs"}


def published_rows(paths: ProjectPaths) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables where "
            "table_schema in ('marts', 'quality') and table_type = 'BASE TABLE' "
            "and table_name not in ('expectation_results', 'validated_submissions') "
            "order by 1, 2").fetchall()
        found = {}
        for schema, name in tables:
            rounded = ", ".join(
                f'round("{c}", 6)' if kind in ("DOUBLE", "FLOAT") else f'"{c}"'
                for c, kind in con.execute(
                    "select column_name, data_type from information_schema.columns where "
                    "table_schema = ? and table_name = ? order by ordinal_position",
                    [schema, name]).fetchall() if c not in VOLATILE)
            found[f"{schema}.{name}"] = con.execute(
                f"select {rounded} from {schema}.{name} order by all").fetchall()
        return found
    finally:
        con.close()


def _read_only(run: PipelineRun, path: Path):
    # the sample plants two files that cannot be read: published, exit code 3
    from app.summary import EXIT_NOT_READ

    assert run.returncode == EXIT_NOT_READ, run.stdout + run.stderr
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def warehouse(sample_run):
    """The sample run's warehouse, read-only (a module may define its own ``warehouse``)."""
    yield from _read_only(sample_run, sample_run.paths.warehouse)


@pytest.fixture(scope="module")
def serving(sample_run):
    """The sample run's published snapshot, read-only."""
    yield from _read_only(sample_run, sample_run.paths.serving)
