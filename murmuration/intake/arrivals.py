"""When each file arrived, as the pipeline saw it: never the file's own modification time.

A file's modification time is the sender's to set (an SFTP client can keep the original's, a
partner can backdate it) and ``cp`` without ``-p`` resets it (a restored inbox would make every
report late). So arrival is recorded by the pipeline, once, and kept:

- a file delivered through the portal arrived when the partner sent it (``portal``);
- a file dropped into the inbox arrived when the inbox sensor first saw it (``sensor``), or,
  with no sensor running, when a run first saw it (``run``);
- files received before Murmuration was in place can be given their arrival time by the data
  team (``recorded``; the bundled sample's simulated history is recorded this way).

The ledger is a small SQLite file in the state folder (``arrivals.sqlite``), written by the
sensor, the portal and runs, each in its own short transaction. One version of a file is its
inbox path with its size and modification time; a new version of the same path is a new arrival.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from murmuration.paths import ProjectPaths

SOURCES = {
    "portal": "sent through the portal",
    "sensor": "first seen in the inbox by the pipeline's watcher",
    "run": "first seen in the inbox by a run",
    "recorded": "arrival recorded by the data team",
    # `murmuration mapping check` of a file not received: its own time is all there is.
    "file_time": "the file's own modification time (a check, not a receipt)",
}

_SCHEMA = """
create table if not exists arrivals (
    inbox_path varchar not null,
    size_bytes integer not null,
    modified_ns integer not null,
    first_seen varchar not null,
    source varchar not null,
    sha256 varchar,  -- set when a run reads the file: a restored copy keeps its first arrival
    primary key (inbox_path, size_bytes, modified_ns)
)"""


@dataclass(frozen=True)
class Arrival:
    first_seen: str  # ISO 8601, UTC, seconds
    source: str


def version_of(path: Path, stat: os.stat_result | None = None) -> tuple[int, int]:
    """(size, modification time in ns): what tells one version of an inbox file from another."""
    stat = stat or path.stat()
    return stat.st_size, stat.st_mtime_ns


def _ledger(paths: ProjectPaths):
    return paths.state_dir / "arrivals.sqlite"


def _connect(paths: ProjectPaths, read_only: bool = False) -> sqlite3.Connection:
    """A short connection (the sensor, the portal and runs each write a few rows at a time;
    SQLite's lock serialises them). Reading opens the ledger read-only: it writes nothing."""
    if read_only:
        return sqlite3.connect(f"{_ledger(paths).as_uri()}?mode=ro", uri=True, timeout=30)
    paths.state_dir.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(_ledger(paths), timeout=30)
    connection.execute(_SCHEMA)
    connection.execute("create index if not exists arrivals_by_content on arrivals (sha256)")
    return connection


def _stamp(moment: datetime | None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")


def inbox_key(paths: ProjectPaths, path: Path, folder: str | None = None) -> str:
    """The file's path inside the inbox ('folder/name'): the ledger's and the submission's name
    for it. A file from elsewhere (`murmuration mapping check`) is named by ``folder``."""
    try:
        return path.resolve().relative_to(paths.inbox_dir.resolve()).as_posix()
    except ValueError:
        return f"{folder}/{path.name}" if folder else path.name


def record(paths: ProjectPaths, files: list[Path], source: str,
           when: datetime | list[datetime] | None = None) -> int:
    """Record the current version of each file as arrived ``when`` (default: now), unless that
    version is recorded already (the first record stands). Returns how many were new."""
    if source not in SOURCES:
        raise ValueError(f"unknown arrival source {source!r}")
    moments = when if isinstance(when, list) else [when] * len(files)
    rows = []
    for path, moment in zip(files, moments, strict=True):
        try:
            size, modified = version_of(path)
        except OSError:  # gone before it could be recorded: nothing arrived
            continue
        rows.append((inbox_key(paths, path), size, modified, _stamp(moment), source))
    if not rows:
        return 0
    with closing(_connect(paths)) as connection, connection:
        before = connection.total_changes
        connection.executemany("insert or ignore into arrivals (inbox_path, size_bytes, "
                               "modified_ns, first_seen, source) values (?, ?, ?, ?, ?)", rows)
        return connection.total_changes - before


def arrivals(paths: ProjectPaths, files: list[Path]) -> dict[Path, Arrival]:
    """The recorded arrival of each file's current version (files never recorded are absent)."""
    if not _ledger(paths).exists() or not files:
        return {}
    wanted = {}
    for path in files:
        try:
            wanted[(inbox_key(paths, path), *version_of(path))] = path
        except OSError:
            continue
    found = {}
    with closing(_connect(paths, read_only=True)) as connection:
        connection.execute("create temp table wanted (inbox_path varchar, size_bytes integer, "
                           "modified_ns integer)")
        connection.executemany("insert into wanted values (?, ?, ?)", list(wanted))
        for key, size, modified, first_seen, source in connection.execute(
                "select a.inbox_path, a.size_bytes, a.modified_ns, a.first_seen, a.source "
                "from arrivals a join wanted using (inbox_path, size_bytes, modified_ns)"):
            found[wanted[(key, size, modified)]] = Arrival(first_seen, source)
    return found


def arrivals_recording(paths: ProjectPaths, files: list[Path],
                       source: str = "run") -> dict[Path, Arrival]:
    """Each file's arrival: its recorded one, or now for a version never seen before (recorded
    as first seen by ``source``, so a later run finds the same time)."""
    known = arrivals(paths, files)
    unseen = [path for path in files if path not in known]
    if unseen:
        record(paths, unseen, source)
        known.update(arrivals(paths, unseen))
    return known


def earliest_by_content(paths: ProjectPaths, files: dict[Path, tuple[str, str]],
                        known: dict[Path, Arrival]) -> dict[Path, Arrival]:
    """Note each file's content (``files``: path -> (inbox folder, SHA-256)) beside its version,
    and return for each the earliest arrival of the same bytes in the same folder: a copy that
    lost its timestamps (an inbox restored with ``cp``) keeps the arrival of the original."""
    if not files:
        return {}
    rows = []
    for path, (_folder, sha) in files.items():
        try:
            rows.append((sha, inbox_key(paths, path), *version_of(path)))
        except OSError:
            continue
    earliest = dict(known)
    with closing(_connect(paths)) as connection, connection:
        connection.executemany("update arrivals set sha256 = ? where inbox_path = ? and "
                               "size_bytes = ? and modified_ns = ?", rows)
        for path, (folder, sha) in files.items():
            found = connection.execute(
                "select first_seen, source from arrivals where sha256 = ? and "
                "substr(inbox_path, 1, ?) = ? order by first_seen, source limit 1",
                [sha, len(folder) + 1, folder + "/"]).fetchone()
            if found and (path not in earliest or found[0] < earliest[path].first_seen):
                earliest[path] = Arrival(*found)
    return earliest


def arrival_for_check(paths: ProjectPaths, path: Path) -> Arrival:
    """A file checked by `murmuration mapping check`: its recorded arrival when it is in the
    initiative's inbox and was seen, else its own modification time (it was not received)."""
    known = arrivals(paths, [path]).get(path)
    if known is not None:
        return known
    return Arrival(_stamp(datetime.fromtimestamp(path.stat().st_mtime, UTC)), "file_time")


def set_arrivals(paths: ProjectPaths, moments: dict[Path, datetime]) -> list[str]:
    """Record when files were really sent, replacing what was recorded (history loaded long
    after it was sent: `murmuration arrivals set`): the ledger, and the files already landed
    (their next build scores them by it). Returns the inbox paths changed."""
    import json

    from murmuration.files import write_json_atomic
    from murmuration.intake.landing import SUBMISSION_FILE

    rows, keys = [], {}
    for path, moment in moments.items():
        size, modified = version_of(path)
        key = inbox_key(paths, path)
        rows.append((key, size, modified, _stamp(moment), "recorded"))
        keys[key] = _stamp(moment)
    with closing(_connect(paths)) as connection, connection:
        connection.executemany(
            "insert into arrivals (inbox_path, size_bytes, modified_ns, first_seen, source) "
            "values (?, ?, ?, ?, ?) on conflict (inbox_path, size_bytes, modified_ns) do update "
            "set first_seen = excluded.first_seen, source = excluded.source", rows)
    if paths.landed_dir.is_dir():
        for meta in paths.landed_dir.glob(f"*/{SUBMISSION_FILE}"):
            landed = json.loads(meta.read_text(encoding="utf-8"))
            when = keys.get(landed.get("inbox_path"))
            if when and (landed.get("arrived_at"), landed.get("arrival_source")) != (
                    when, "recorded"):
                landed.update(arrived_at=when, arrival_source="recorded")
                write_json_atomic(meta, landed, indent=2)
    return sorted(keys)
