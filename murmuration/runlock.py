"""One writer per initiative: every run takes ``<state>/run.lock`` before it writes anything.

DuckDB lets one process write a warehouse file; two runs of one initiative at once would both
land the same files and the second would fail on the warehouse's own lock. The lock is an
``fcntl.flock`` on an open file, so it goes with its holder: a crashed or killed process releases
it without anyone cleaning up. The holder writes its pid, its command and the UTC time it started
into the file, which is how a refused run can say who is writing.

Takers: ``murmuration run`` (app/cli.py, app/pipeline.py) and every run the
Dagster daemon, a sensor, the schedule or the UI launches under ``murmuration serve``
(orchestration/lib/executor.py). ``murmuration mapping check`` works in a scratch folder of its
own and takes no lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from murmuration.paths import ProjectPaths

POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Holder:
    """Who holds the lock, as its holder wrote it (fields may be missing for a moment while a
    new holder is writing them)."""

    pid: int | None = None
    command: str = ""
    started: datetime | None = None

    def describe(self, now: datetime | None = None) -> str:
        """'since 10:42 UTC (pid 1234, murmuration run)'."""
        now = now or datetime.now(UTC)
        if self.started is None:
            since = ""
        elif self.started.date() == now.date():
            since = f" since {self.started:%H:%M} UTC"
        else:
            since = f" since {self.started:%Y-%m-%d %H:%M} UTC"
        who = ", ".join(part for part in (f"pid {self.pid}" if self.pid else "",
                                          self.command) if part)
        return f"{since}{f' ({who})' if who else ''}"


class RunLockHeld(Exception):
    """Another process holds the initiative's run lock."""

    def __init__(self, holder: Holder, waited: float | None = None):
        self.holder = holder
        self.waited = waited
        still = f" (still, after waiting {waited:.0f} s)" if waited else ""
        super().__init__(f"another run of this initiative is in progress"
                         f"{holder.describe()}{still}")


def read_holder(lock_file: Path) -> Holder:
    """What the holder wrote into the lock file (an empty Holder when nothing readable is)."""
    try:
        content = json.loads(lock_file.read_text(encoding="utf-8") or "{}")
        started = content.get("started")
        return Holder(pid=content.get("pid"), command=content.get("command", ""),
                      started=datetime.fromisoformat(started) if started else None)
    except (OSError, ValueError, TypeError, AttributeError):
        return Holder()


class RunLock:
    """The run lock of one initiative (``paths.run_lock``), held by this object once acquired.

    Use as ``with RunLock(paths, "murmuration run").acquire(wait=...):``; ``acquire`` raises
    RunLockHeld when another process holds it beyond ``wait`` seconds (0: do not wait;
    None: wait as long as it takes). The lock is not re-entrant: a second RunLock on the same
    initiative in the same process is refused too.
    """

    def __init__(self, paths: ProjectPaths, command: str):
        self.path = paths.run_lock
        self.command = command
        self._file = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; never waits."""
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # "a+" neither truncates nor fails: the holder's details stay readable until we own it.
        file = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        except BaseException:
            file.close()
            raise
        file.seek(0)
        file.truncate()
        file.write(json.dumps({"pid": os.getpid(), "command": self.command,
                               "started": datetime.now(UTC).isoformat(timespec="seconds")}))
        file.flush()
        self._file = file
        return True

    def holder(self) -> Holder:
        """Who holds it now (a new holder writes its details right after taking it)."""
        holder = read_holder(self.path)
        for _ in range(10):
            if holder.pid:
                break
            time.sleep(0.05)
            holder = read_holder(self.path)
        return holder

    def acquire(self, wait: float | None = 0,
                on_wait: Callable[[Holder], None] | None = None) -> RunLock:
        """Take the lock, waiting up to ``wait`` seconds (None: without limit) for its holder
        to end; ``on_wait`` is called once, with the holder, when it has to wait."""
        if self.try_acquire():
            return self
        holder = self.holder()
        if wait is not None and wait <= 0:
            raise RunLockHeld(holder)
        if on_wait:
            on_wait(holder)
        started = time.monotonic()
        while wait is None or time.monotonic() - started < wait:
            time.sleep(POLL_SECONDS if wait is None else
                       max(0.0, min(POLL_SECONDS, wait - (time.monotonic() - started))))
            if self.try_acquire():
                return self
        raise RunLockHeld(self.holder(), waited=time.monotonic() - started)

    def release(self) -> None:
        if self._file is None:
            return
        file, self._file = self._file, None
        try:
            file.seek(0)
            file.truncate()  # nobody holds it: no details to show
            file.flush()
        finally:
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)
            file.close()

    def __enter__(self) -> RunLock:
        if not self.held:
            self.acquire()
        return self

    def __exit__(self, *_exc) -> None:
        self.release()


def is_locked(paths: ProjectPaths) -> bool:
    """Whether some process holds the initiative's run lock now (a probe: takes it and lets
    it go at once when it is free)."""
    probe = RunLock(paths, "probe")
    if probe.try_acquire():
        probe.release()
        return False
    return True
