"""Time a command and the peak memory of every process it starts (Linux /proc sampling).

Memory is the resident set size (VmRSS: cheap to read; the proportional set size in
smaps_rollup walks the process's page tables under its memory-map lock: tens of ms a read at a
few GB, which slowed the runs measured by a quarter). A process forked from one of the same
name (Great Expectations' workers, forked from the run) is its own kind, "<name> workers": its
RSS counts again the pages it still shares with its parent."""

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
    peak_mib: dict[str, float] = field(default_factory=dict)  # process kind -> peak RSS

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


def _status(pid: int) -> dict[str, str]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return fields


def _name(pid: int) -> str:
    words = [w.decode(errors="replace") for w in
             Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if w]
    name = next((Path(w).name for w in words[1:3] if w.endswith(("dbt", "murmuration"))), None)
    if name is None and len(words) > 2 and words[1] == "-m":
        name = words[2]
    return name or (Path(words[0]).name if words else "?")


def _memory_and_name(pid: int, root: int) -> tuple[str, float] | None:
    """The process's kind and its RSS in MiB (None once it has ended)."""
    try:
        status, name = _status(pid), _name(pid)
        if pid != root and _name(int(status.get("PPid", "0"))) == name:
            name = f"{name} workers"
        return name, int(status.get("VmRSS", "0 kB").split()[0]) / 1024
    except (OSError, ValueError):
        return None


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
                found = _memory_and_name(pid, process.pid)
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
