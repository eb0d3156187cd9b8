"""Signals a long-running process must keep: SIGTERM stops it, whoever started it.

A process started in the background by a non-interactive shell (a cron job, a CI script, a
service wrapper) begins with SIGINT ignored. Dagster, running a job in process, maps SIGTERM to
whatever SIGINT does (for Kubernetes) and leaves it so: SIGTERM ends up ignored too, in the run
and in every process it starts afterwards (found as dashboard servers a test could not stop).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def stoppable() -> None:
    """Make SIGTERM and SIGINT stop this process if they were inherited as ignored (a server's
    first step: ``kill`` and Ctrl-C must stop it)."""
    if not _main_thread():
        return
    if signal.getsignal(signal.SIGTERM) == signal.SIG_IGN:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@contextlib.contextmanager
def sigterm_kept() -> Iterator[None]:
    """Whatever runs inside (Dagster's in-process execution) leaves SIGTERM as it found it."""
    if not _main_thread():
        yield
        return
    before = signal.getsignal(signal.SIGTERM)
    try:
        yield
    finally:
        if before is not None:
            signal.signal(signal.SIGTERM, before)


NICE_ENV = "MURMURATION_RUN_NICE"
DEFAULT_NICE = 10


def yield_cpu() -> int:
    """Run this process (and what it starts: dbt, the checks' workers) at a lower CPU priority
    than the dashboard, so people reading it are answered first while a run works: niceness
    ``MURMURATION_RUN_NICE`` (default 10; 0 leaves it). Never raised back: a process already
    nicer stays so. Returns the niceness now."""
    import os

    try:
        wanted = int(os.environ.get(NICE_ENV) or DEFAULT_NICE)
    except ValueError:
        wanted = DEFAULT_NICE
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if wanted > current:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, 0, min(wanted, 19))
    return os.getpriority(os.PRIO_PROCESS, 0)
