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


NICE_SCRIPT = """
import os, subprocess, sys
from murmuration.processes import yield_cpu
print(yield_cpu(), subprocess.run([sys.executable, "-c",
      "import os; print(os.getpriority(os.PRIO_PROCESS, 0))"],
      capture_output=True, text=True).stdout.strip())
"""


def test_a_run_yields_the_cpu_to_the_dashboard_and_its_children_too():
    """Found: the dashboard's p95 was 5.2 s with 20 clients while runs competed for the two
    cores. A run (and dbt, the checks' workers: what it starts) runs at niceness 10 by
    default, MURMURATION_RUN_NICE to change it, 0 to leave it."""
    import os

    base = os.getpriority(os.PRIO_PROCESS, 0)

    def niceness(setting: str | None) -> list[int]:
        env = {k: v for k, v in os.environ.items() if k != "MURMURATION_RUN_NICE"}
        if setting is not None:
            env["MURMURATION_RUN_NICE"] = setting
        done = subprocess.run([sys.executable, "-c", NICE_SCRIPT], env=env,
                              capture_output=True, text=True, timeout=60, check=True)
        return [int(n) for n in done.stdout.split()]

    assert niceness(None) == [max(base, 10)] * 2
    assert niceness("15") == [max(base, 15)] * 2
    assert niceness("0") == [base, base]
