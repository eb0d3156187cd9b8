"""Time a command and the peak memory of every process it starts (Linux /proc sampling).

Memory is the proportional set size (PSS: a page shared by n processes counts 1/n in each), so
the processes of one kind add up without counting twice what a forked worker shares with its
parent; where /proc has no smaps_rollup, the resident set size."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Measurement:
    seconds: float
    returncode: int
    stdout: str
    peak_mib: dict[str, float] = field(default_factory=dict)  # process name -> peak PSS

    @property
    def peak_total_mib(self) -> float:
        return sum(self.peak_mib.values())


def _children(pid: int) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        path = Path(f"/proc/{current}/task/{current}/children")
        try:
            kids = [int(p) for p in path.read_text().split()]
        except OSError:
            kids = []
        found += kids
        frontier += kids
    return found


def _memory_kib(pid: int) -> int:
    """The process's PSS in KiB (its RSS where the kernel gives no smaps_rollup)."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        field = "Pss:"
    except FileNotFoundError:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        field = "VmRSS:"
    return next((int(line.split()[1]) for line in lines if line.startswith(field)), 0)


def _memory_and_name(pid: int) -> tuple[str, float] | None:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        mib = _memory_kib(pid) / 1024
    except OSError:
        return None
    words = [w.decode(errors="replace") for w in cmdline if w]
    name = next((Path(w).name for w in words[1:3] if w.endswith(("dbt", "murmuration"))), None)
    if name is None and len(words) > 2 and words[1] == "-m":
        name = words[2]
    return name or (Path(words[0]).name if words else "?"), mib


def run(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
        interval: float = 0.1) -> Measurement:
    """Run ``command``; sample the memory of it and its descendants every ``interval`` s, keep
    each process kind's peak (processes of the same name at the same moment add up)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env={**os.environ, **(env or {})}, cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peaks: dict[str, float] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            now: dict[str, float] = {}
            for pid in [process.pid, *_children(process.pid)]:
                found = _memory_and_name(pid)
                if found:
                    now[found[0]] = now.get(found[0], 0.0) + found[1]
            for name, mib in now.items():
                peaks[name] = max(peaks.get(name, 0.0), mib)
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = process.communicate()
    done.set()
    sampler.join()
    return Measurement(time.perf_counter() - started, process.returncode, stdout, peaks)
