"""What a run holds back, through the real command line: a complete return that would remove
most of what it replaces is held for review (exit code 5, the rest published), a mapping change
that leaves a file accepted before with no value stops publishing (exit code 6, naming the rule
and the fix), and `murmuration accept` publishes either."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import duckdb
import pytest

from app.summary import EXIT_CLEAN, EXIT_EMPTIED, EXIT_HELD
from murmuration.environment import OFFLINE
from murmuration.intake.arrivals import record as record_arrivals
from murmuration.paths import AS_OF_ENV
from tests.conftest import copy_initiative
from tests.dbt.test_field_model import FIXTURE, ONE_ROW, RETURNS

pytestmark = pytest.mark.slow
AS_OF = "2025-06-30T00:00:00+00:00"


def murmuration(paths, *arguments):
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *arguments, "--project", str(paths.project_dir)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, **OFFLINE, AS_OF_ENV: AS_OF})


def drop(paths, name: str, text: str, day: int) -> None:
    path = paths.inbox_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    record_arrivals(paths, [path], "recorded", datetime(2025, 4, day, 9, tzinfo=UTC))


def published(paths, partner):
    con = duckdb.connect(str(paths.serving), read_only=True)
    try:
        return dict(con.execute("select place_code, value from marts.indicator_values "
                                "where partner_code = ? and period = '2025-03'",
                                [partner]).fetchall())
    finally:
        con.close()


def test_held_and_emptied_files_wait_for_the_backbone(tmp_path, dbt_manifest):
    paths = copy_initiative(FIXTURE, tmp_path / "initiative")
    drop(paths, "ngo_a/ngo_a_2025-03.csv", RETURNS, 3)
    drop(paths, "ngo_b/ngo_b_2025-03.csv", RETURNS, 3)
    first = murmuration(paths, "run")
    assert first.returncode == EXIT_CLEAN, first.stdout + first.stderr
    everything = {"AF01": 100, "AF02": 200, "AF03": 300, "AF06": 400, "AF07": 500}

    # NGO B's files are complete returns: a one-row "return" would withdraw four provinces.
    drop(paths, "ngo_b/ngo_b_2025-03_return.csv", ONE_ROW, 8)
    held = murmuration(paths, "run")
    assert held.returncode == EXIT_HELD, held.stdout + held.stderr
    assert ("Held for review, not published (murmuration accept FILE, or the Pipeline page, "
            "publishes one):\n  ngo_b/ngo_b_2025-03_return.csv: it would remove 4 of the 5 "
            "values it replaces and leave 4 places that had values with none (ngo_b, 2025-03: "
            "5 values adding up to 1500 before, 1 adding up to 250 after)") in held.stdout
    assert "1 file held for review, not published" in held.stdout.splitlines()[-1]
    assert published(paths, "ngo_b") == everything

    # A new mapping for NGO A's files (it names the value column otherwise) quarantines every
    # row of its file, accepted before: nothing is published, and the message says why.
    (paths.mappings_dir / "a_ngo_a_csv.yaml").write_text(
        "name: a_ngo_a_csv\napplies_to: {folders: [ngo_a], files: ['*.csv']}\n"
        "columns: {period: Month, place: Province, value: [Reached, People]}\n"
        "fixed: {indicator: people_reached}\n")
    emptied = murmuration(paths, "run")
    assert emptied.returncode == EXIT_EMPTIED, emptied.stdout + emptied.stderr
    assert ("Not published: files accepted before have no accepted value now (a rule or "
            "mapping change):\n  ngo_a/ngo_a_2025-03.csv: had 5 accepted values in the "
            "published snapshot and now has none: every row is quarantined as \"the header row "
            "was not found: no row in the first rows of the file names all of 'Month', 'Reached' or "
            "'People', 'Province'\". To fix it, name the columns as the files write them in "
            "mapping a_ngo_a_csv (a list of alternatives covers template versions); to publish "
            "it anyway, `murmuration accept` the file"
            ) in emptied.stdout
    assert "(exit code 6)" in emptied.stderr + emptied.stdout
    assert published(paths, "ngo_a") == everything

    # The backbone accepts both (NGO A's change is intended: its rows wait for a new file);
    # the run that follows publishes them.
    accepted = murmuration(paths, "accept", "ngo_b/ngo_b_2025-03_return.csv",
                           "inbox/ngo_a/ngo_a_2025-03.csv", "--by", "backbone")
    assert accepted.returncode == EXIT_CLEAN, accepted.stdout + accepted.stderr
    assert "Accepted ngo_b/ngo_b_2025-03_return.csv (it would remove 4 of the 5" in \
        accepted.stdout
    assert published(paths, "ngo_b") == {"AF02": 250}
    assert published(paths, "ngo_a") == {}
    again = murmuration(paths, "accept", "ngo_b/ngo_b_2025-03_return.csv")
    assert again.returncode == 2 and "not held back (nothing to accept)" in again.stderr
