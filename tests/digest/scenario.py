"""Two real pipeline runs of the sample initiative with partner files changed in between, as
they change in the field: the "What changed" tests (unit, digest, browser) read them.

Run 1 (as of 29 Nov 2026): the sample inbox without Little Steps' June 2025 file.
Run 2 (as of 20 Dec 2026, so November's reports are due):
* Little Steps' June 2025 file arrives (the one the first run missed, sent on time back then);
* the library corrects June 2025 (Northgate's 23,100 minutes -> between May's and July's);
* BrightStart revises October 2026: Northgate F 0-2 +3, Westmoor F 0-2 times ten.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.summary import EXIT_CLEAN, EXIT_NOT_READ
from murmuration.environment import OFFLINE
from murmuration.intake.arrivals import record as record_arrivals
from murmuration.paths import AS_OF_ENV, SAMPLE_PROJECT_DIR, ProjectPaths
from murmuration.sample_inbox import generate_sample_inbox
from tests.conftest import SAMPLE_AS_OF, copy_initiative

SECOND_AS_OF = "2026-12-20T12:00:00+00:00"
HELD_BACK = ("little_steps", "little_steps_2025-06.csv")
LIBRARY_FIX = "library_service_2025-06_corrected.csv"
BRIGHTSTART_FIX = "brightstart_enrolment_2026-10_revised.csv"


@dataclass
class TwoRuns:
    paths: ProjectPaths
    first_published: str
    second_published: str
    second_stdout: str
    northgate_added: float  # what BrightStart's revision added in Northgate
    westmoor_added: float  # ... and in Westmoor
    library_removed_hours: float  # what the library's correction took off Northgate, in hours


def run_pipeline(paths: ProjectPaths, as_of: str, expected: int = EXIT_CLEAN) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "app.cli", "run", "--project", str(paths.project_dir),
         "--quiet"], capture_output=True, text=True, timeout=900,
        env={**os.environ, **OFFLINE, AS_OF_ENV: as_of})
    assert completed.returncode == expected, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed.stdout


def _published(paths: ProjectPaths) -> str:
    import duckdb

    con = duckdb.connect(str(paths.serving), read_only=True)
    try:
        return con.execute("select published_at from main.published").fetchall()[0][0]
    finally:
        con.close()


def _arrive(paths: ProjectPaths, path: Path, text: str, when: str) -> None:
    """A file that arrived ``when`` (as the pipeline's watcher would have recorded it)."""
    path.write_text(text, encoding="utf-8")
    record_arrivals(paths, [path], "recorded", datetime.fromisoformat(when))


def two_runs(folder: Path) -> TwoRuns:
    paths = copy_initiative(SAMPLE_PROJECT_DIR, folder / "sample")
    generate_sample_inbox(paths)
    held = folder / "held_back"
    held.mkdir()
    original = paths.inbox_dir / HELD_BACK[0] / HELD_BACK[1]
    os.replace(original, held / HELD_BACK[1])
    run_pipeline(paths, SAMPLE_AS_OF, EXIT_NOT_READ)  # the sample's two unreadable files
    first = _published(paths)

    os.replace(held / HELD_BACK[1], original)  # keeps its time of arrival (on time)
    library_dir = paths.inbox_dir / "library_service"
    library = (library_dir / "library_service_2025-06.csv").read_text(
        encoding="utf-8").splitlines()
    assert library[1] == "2025-06-01,NORTHGATE,23100"
    # The corrected figure: between May's and July's (the decimal point was not all it lost).
    around = [int((library_dir / f"library_service_{month}.csv").read_text(encoding="utf-8")
                  .splitlines()[1].rsplit(",", 1)[1]) for month in ("2025-05", "2025-07")]
    corrected = round(sum(around) / 2)
    library[1] = f"2025-06-01,NORTHGATE,{corrected}"
    _arrive(paths, paths.inbox_dir / "library_service" / LIBRARY_FIX, "\n".join(library) + "\n",
            "2026-12-05T10:00:00+00:00")
    rows = (paths.inbox_dir / "brightstart" / "brightstart_enrolment_2026-10.csv").read_text(
        encoding="utf-8").splitlines()
    north = rows[1].rsplit(",", 1)
    assert north[0].split(",")[2:5] == ["Northgate", "F", "0-2"]
    rows[1] = f"{north[0]},{int(north[1]) + 3}"
    [west_at] = [n for n, row in enumerate(rows) if ",Westmoor,F,0-2," in row]
    west = rows[west_at].rsplit(",", 1)
    rows[west_at] = f"{west[0]},{int(west[1]) * 10}"
    _arrive(paths, paths.inbox_dir / "brightstart" / BRIGHTSTART_FIX, "\n".join(rows) + "\n",
            "2026-12-01T09:00:00+00:00")
    stdout = run_pipeline(paths, SECOND_AS_OF, EXIT_NOT_READ)  # still in the inbox: still not read
    return TwoRuns(paths=paths, first_published=first, second_published=_published(paths),
                   second_stdout=stdout, northgate_added=3.0,
                   westmoor_added=9.0 * int(west[1]),
                   library_removed_hours=(23100 - corrected) / 60)
