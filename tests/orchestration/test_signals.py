"""A Dagster run in process leaves SIGTERM as it found it (murmuration/processes.py)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import signal, sys
import dagster as dg
from murmuration.processes import sigterm_kept

# As a process started in the background: SIGINT ignored, SIGTERM as usual (set here: this
# test's own process may have inherited either).
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.signal(signal.SIGINT, signal.SIG_IGN)

@dg.op
def nothing():
    return 1

@dg.job
def job():
    nothing()

if sys.argv[1] == "kept":
    with sigterm_kept():
        assert job.execute_in_process().success
else:
    assert job.execute_in_process().success
print(signal.getsignal(signal.SIGTERM) == signal.SIG_IGN)
"""


def _sigterm_ignored_after_a_run(mode: str) -> bool:
    completed = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True,
                               text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout.strip().splitlines()[-1] == "True"


def test_a_dagster_run_in_process_leaves_sigterm_as_it_found_it():
    # What Dagster does on its own: SIGTERM mapped to SIGINT's handler, here "ignored".
    assert _sigterm_ignored_after_a_run("bare")
    # What the pipeline does (app.pipeline wraps execute_in_process): SIGTERM still stops it.
    assert not _sigterm_ignored_after_a_run("kept")
