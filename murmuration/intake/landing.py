"""Landing: every file in the inbox becomes a submission, kept byte for byte, its cells as text.

A submission is identified by the SHA-256 of its content, so the same file twice (under any
name) changes nothing. Each submission gets its own folder under ``landed/``, written last-step
atomically, so landing one new file touches only that file's folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

from murmuration.intake.readers import UnreadableFile, read_grid
from murmuration.intake.reasons import unsupported_extension
from murmuration.paths import ProjectPaths
from murmuration.registry import Registry
from murmuration.registry.mapping import EXTENSION_FORMATS

SUBMISSION_FILE = "submission.json"
LANDING_THREADS = min(4, os.cpu_count() or 1)
ROWS_FILE = "rows.parquet"

# Files that are never submissions: editors' lock files and operating-system clutter.
IGNORED_PREFIXES = {"~$": "an Excel lock file (written while a workbook is open), not a submission",
                    ".~lock.": "a LibreOffice lock file, not a submission"}
IGNORED_NAMES = {"thumbs.db": "a Windows thumbnail cache, not a submission",
                 ".ds_store": "a macOS folder settings file, not a submission"}


@dataclass
class Submission:
    """What is known about one received file (stored as landed/<id>/submission.json)."""

    submission_id: str
    sha256: str
    folder: str
    file_name: str
    inbox_path: str
    received_path: str
    size_bytes: int
    arrived_at: str
    landed_at: str
    status: str  # landed | unreadable (also a file over a limit) | ignored
    message: str | None  # for the partner: why it was not read and what to do (intake.reasons)
    file_format: str | None
    rows_read: int
    sheets: list[str]
    reader_details: str
    # For the data team only: what the reader or engine said when the file could not be read.
    detail: str | None = None

    @property
    def location(self) -> str:
        return f"{self.folder}/{self.file_name}"


@dataclass
class LandingReport:
    new: list[Submission]
    unchanged: int

    @property
    def rows_landed(self) -> int:
        return sum(s.rows_read for s in self.new)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def inbox_files(paths: ProjectPaths) -> list[tuple[str, Path]]:
    """(folder, file) for every file one level below the inbox's partner folders, sorted."""
    found = []
    if not paths.inbox_dir.is_dir():
        return found
    for folder in sorted(p for p in paths.inbox_dir.iterdir() if p.is_dir()):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                found.append((folder.name, path))
    return found


def inbox_folders(paths: ProjectPaths) -> list[str]:
    """The inbox's sub-folders (one per partner, or shared ones for consolidated files)."""
    if not paths.inbox_dir.is_dir():
        return []
    return sorted(p.name for p in paths.inbox_dir.iterdir()
                  if p.is_dir() and not p.name.startswith("."))


def ignored_reason(file_name: str) -> str | None:
    lowered = file_name.lower()
    for prefix, reason in IGNORED_PREFIXES.items():
        if file_name.startswith(prefix):
            return reason
    return IGNORED_NAMES.get(lowered)


def load_submissions(paths: ProjectPaths) -> list[Submission]:
    """Every submission landed so far, oldest arrival first."""
    submissions = []
    if paths.landed_dir.is_dir():
        for meta in paths.landed_dir.glob(f"*/{SUBMISSION_FILE}"):
            submissions.append(Submission(**json.loads(meta.read_text(encoding="utf-8"))))
    return sorted(submissions, key=lambda s: (s.arrived_at, s.landed_at, s.submission_id))


def land_inbox(paths: ProjectPaths, registry: Registry, folders: set[str] | None = None,
               now: datetime | None = None) -> LandingReport:
    """Land every inbox file not landed before (optionally only in some partner folders), a
    few at a time: readers spend most of their time outside Python (DuckDB, fastexcel)."""
    paths.ensure()
    landed_at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    todo, unchanged, seen = [], 0, {}
    for folder, path in inbox_files(paths):
        if folders is not None and folder not in folders:
            continue
        sha = file_sha256(path)
        submission_id = submission_id_for(paths, folder, sha, seen)
        if submission_id in seen or (paths.submission_dir(submission_id)
                                     / SUBMISSION_FILE).exists():
            unchanged += 1
            continue
        seen[submission_id] = folder
        todo.append((folder, path, sha, submission_id))
    with ThreadPoolExecutor(max_workers=LANDING_THREADS) as pool:
        new = list(pool.map(lambda item: land_file(paths, registry, *item[:3], landed_at,
                                                   item[3]), todo))
    return LandingReport(new=new, unchanged=unchanged)


def submission_id_for(paths: ProjectPaths, folder: str, sha: str,
                      seen: dict[str, str] | None = None) -> str:
    """A submission is its bytes in its folder: the same bytes twice in one folder are one
    submission, from two folders two (each partner is credited with what it sent). The first
    folder to send some bytes keeps the plain content id (as landed before folders counted);
    another folder's copy gets an id of its own, salted with the folder's name."""
    plain = sha[:16]
    owner = (seen or {}).get(plain)
    if owner is None:
        meta = paths.submission_dir(plain) / SUBMISSION_FILE
        if meta.exists():
            owner = json.loads(meta.read_text(encoding="utf-8")).get("folder")
    if owner is None or owner == folder:
        return plain
    return hashlib.sha256(f"{folder}/{sha}".encode()).hexdigest()[:16]


def land_file(paths: ProjectPaths, registry: Registry, folder: str, path: Path, sha: str,
              landed_at: str, submission_id: str | None = None) -> Submission:
    submission_id = submission_id or submission_id_for(paths, folder, sha)
    target = paths.submission_dir(submission_id)
    target.mkdir(parents=True, exist_ok=True)
    received = paths.received_dir / submission_id / path.name
    received.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, received)  # byte for byte, with the arrival timestamp

    arrived = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    status, message, file_format, rows, sheets, details = "landed", None, None, 0, [], {}
    detail = None
    reason = ignored_reason(path.name)
    mapping = registry.mapping_for(folder, path.name)
    if reason:
        status, message = "ignored", reason
    else:
        file_format = mapping.format_for(path.name) if mapping else \
            EXTENSION_FORMATS.get(path.suffix.lower())
        if file_format is None:
            status, message = "unreadable", unsupported_extension(path.suffix)
        else:
            try:
                grid = read_grid(received, file_format,
                                 mapping.reader.encoding if mapping else None,
                                 registry.initiative.limits)
                pq.write_table(grid.table, target / ROWS_FILE)
                rows = grid.table.num_rows
                sheets = sorted(set(grid.table.column("sheet").to_pylist()))
                details = grid.details
            except UnreadableFile as error:
                status, message, detail = "unreadable", error.reason, error.detail
    submission = Submission(
        submission_id=submission_id, sha256=sha, folder=folder, file_name=path.name,
        inbox_path=_inbox_path(paths, folder, path), received_path=str(received),
        size_bytes=path.stat().st_size, arrived_at=arrived, landed_at=landed_at, status=status,
        message=message, file_format=file_format.value if file_format else None, rows_read=rows,
        sheets=sheets, reader_details=json.dumps(details, sort_keys=True, default=str),
        detail=detail)
    _write_json_atomic(target / SUBMISSION_FILE, asdict(submission))
    return submission


def _inbox_path(paths: ProjectPaths, folder: str, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(paths.inbox_dir))
    except ValueError:  # a file checked from elsewhere (murmuration mapping check)
        return f"{folder}/{path.name}"


def _write_json_atomic(path: Path, content: dict) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(content, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)
