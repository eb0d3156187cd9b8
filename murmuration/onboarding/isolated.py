"""The portal's check of an uploaded file, in a worker process with a memory cap.

A partner's upload is checked before it is sent (land, map, judge in a scratch run: what the
pipeline would do with it). The file is the partner's and may be hostile in ways no limit
foresees, so the check runs in a process of its own whose data segment is capped
(``RLIMIT_DATA``, inherited by the dbt process it starts): a file that needs more memory ends the
worker, never the dashboard server, and the partner is told the file is too large to check.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import resource
import subprocess
import sys
from pathlib import Path

from murmuration.paths import ProjectPaths

MEMORY_ENV = "MURMURATION_PORTAL_CHECK_MEMORY_MB"
DEFAULT_MEMORY_MB = 2048  # a check of a file at the default limits peaks well under this
TIMEOUT_SECONDS = 300


class CheckNotDone(Exception):
    """The check could not be done: the message is for the partner, ``detail`` for the data
    team (the dashboard's log)."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.detail = detail or message


def memory_cap_mb() -> int:
    return int(os.environ.get(MEMORY_ENV) or DEFAULT_MEMORY_MB)


def main(argv: list[str] | None = None) -> int:
    """The worker: ``python -m murmuration.onboarding.isolated MB PROJECT STATE FILE PARTNER``;
    caps its own data segment first, then writes the pickled outcome to stdout."""
    memory_mb, project_dir, state_dir, staged, partner_code = (argv or sys.argv[1:])
    limit = int(memory_mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    try:
        from murmuration.onboarding.check import check_mappings
        from murmuration.registry import load_registry

        paths = ProjectPaths.for_project(project_dir, state_dir)
        with contextlib.redirect_stdout(sys.stderr):  # stdout carries the outcome only
            report = check_mappings(paths, load_registry(paths),
                                    [(Path(staged), partner_code)])[0]
        outcome = ("done", report)
    except MemoryError:
        outcome = ("memory", None)
    except Exception as error:  # for the data team (the server's log), not the partner
        outcome = ("error", f"{type(error).__name__}: {error}")
    sys.stdout.buffer.write(pickle.dumps(outcome))
    return 0


def check_upload(paths: ProjectPaths, staged: Path, partner_code: str,
                 memory_mb: int | None = None, timeout: float = TIMEOUT_SECONDS):
    """The CheckReport of one staged upload, worked out in a capped worker process (a fresh
    interpreter: nothing of the server's threads or state); raises CheckNotDone when the worker
    ran out of memory, died, failed or took longer than ``timeout`` seconds (then it is
    killed)."""
    memory_mb = memory_mb or memory_cap_mb()
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "murmuration.onboarding.isolated", str(memory_mb),
             str(paths.project_dir), str(paths.state_dir), str(staged), partner_code],
            capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        raise CheckNotDone(f"checking the file took longer than {timeout:.0f} seconds: send "
                           "it split by month, or ask the backbone's data team to load it"
                           ) from error
    try:
        outcome, value = pickle.loads(completed.stdout)
    except Exception:  # the worker died before it could say (the allocator or kernel ended it)
        outcome, value = "memory", completed.stderr.decode(errors="replace")[-2000:]
    if outcome == "done":
        return value
    if outcome == "memory":
        raise CheckNotDone(f"the file needs more memory to check than the portal allows "
                           f"({memory_mb:,} MB): send it split by month, or ask the backbone's "
                           "data team to load it", detail=value or "")
    raise CheckNotDone("the file could not be checked: try again, or ask the backbone's data "
                       "team (they can see why in the dashboard's log)", detail=value)


if __name__ == "__main__":
    raise SystemExit(main())
