"""Landing: every file in the inbox becomes a submission, kept byte for byte, its cells as text.

A submission is identified by the SHA-256 of its content in its folder, so the same file twice
(under any name) changes nothing. Each submission gets its own folder under ``landed/``, written
last-step atomically, so landing one new file touches only that file's folder.

A file is taken only once it is stable: its size and modification time unchanged for the
initiative's ``intake.settle_seconds``, and unchanged while it is copied. A run waits a little for
a file still being written, then leaves it to the next run (the inbox sensor starts one when the
file settles). The kept copy, its hash and its recorded size come from one read of the file.
Its arrival is the pipeline's record of when it first saw the file (intake.arrivals), never the
file's own modification time.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

from murmuration.files import write_json_atomic
from murmuration.intake.arrivals import Arrival, arrivals_recording, earliest_by_content, inbox_key, version_of
from murmuration.intake.readers import UnreadableFile, read_grid
from murmuration.intake.reasons import unsupported_extension
from murmuration.paths import ProjectPaths
from murmuration.registry import Registry
from murmuration.registry.mapping import EXTENSION_FORMATS

SUBMISSION_FILE = "submission.json"
LANDING_THREADS = min(4, os.cpu_count() or 1)
ROWS_FILE = "rows.parquet"
WAITING_FILE = "waiting.json"  # what the last landing left because it was still being written
SETTLE_ENV = "MURMURATION_SETTLE_SECONDS"  # overrides intake.settle_seconds (tests use 0)

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
    # The file's own modification time (the sender's clock: shown, never used as its arrival)
    # and how its arrival was known (intake.arrivals.SOURCES). Older landings lack both.
    modified_at: str | None = None
    arrival_source: str | None = None

    @property
    def location(self) -> str:
        return f"{self.folder}/{self.file_name}"


@dataclass
class LandingReport:
    new: list[Submission]
    unchanged: int
    # Inbox files still being written when the run looked ('folder/name'): left for a later run.
    waiting: list[str] = field(default_factory=list)
    # Inbox entries that are not regular files (links, pipes, devices): never read.
    not_files: list[tuple[str, str]] = field(default_factory=list)

    @property
    def rows_landed(self) -> int:
        return sum(s.rows_read for s in self.new)


def _open_regular(path: Path):
    """``path`` opened for reading only if it is a regular file itself (never through a link
    put in its place after the inbox was listed: O_NOFOLLOW; never a FIFO that would block)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
                             | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        if error.errno == errno.ELOOP:  # a link now: the next look sets it aside
            raise FileChangedWhileReading(str(path)) from error
        raise
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise FileChangedWhileReading(str(path))
    return os.fdopen(descriptor, "rb")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with _open_regular(path) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


NOT_FILES_FILE = "inbox_not_files.json"  # what the last look at the inbox set aside unread


def _not_a_file(mode: int, link: str | None) -> str:
    """Why an inbox entry that is not a regular file is never read, for the partner."""
    if link is not None:
        return (f"a link (to {link}), not a file: links in the inbox are never followed; put "
                "the file itself in the folder")
    kind = ("a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISBLK(mode) or stat.S_ISCHR(mode) else "not a file")
    return f"{kind}, not a file: only regular files are read; put the file itself in the folder"


def scan_inbox(paths: ProjectPaths) -> tuple[list[tuple[str, Path]], list[tuple[str, str]]]:
    """The inbox's regular files as (folder, file), sorted, and what is set aside unread as
    ('folder/name', reason): links (to a file, a folder, another partner's file or a system
    file), pipes, devices and sockets, and a partner folder that is itself a link. Nothing is
    followed or opened to find out."""
    found, not_files = [], []
    if not paths.inbox_dir.is_dir():
        return found, not_files
    for entry in sorted(paths.inbox_dir.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            not_files.append((entry.name + "/", _not_a_file(0, os.readlink(entry))))
            continue
        if not entry.is_dir():
            continue
        for root, folders, names in os.walk(entry, followlinks=False):
            base = Path(root)
            for name in sorted(names + [f for f in folders if (base / f).is_symlink()]):
                path = base / name
                try:
                    mode = path.lstat().st_mode
                except OSError:
                    continue  # gone since it was listed
                if stat.S_ISREG(mode):
                    found.append((entry.name, path))
                else:
                    link = os.readlink(path) if stat.S_ISLNK(mode) else None
                    not_files.append((path.relative_to(paths.inbox_dir).as_posix(),
                                      _not_a_file(mode, link)))
    return sorted(found, key=lambda item: (item[0], item[1])), sorted(not_files)


def inbox_files(paths: ProjectPaths) -> list[tuple[str, Path]]:
    """(folder, file) for every regular file below the inbox's partner folders, sorted."""
    return scan_inbox(paths)[0]


def not_files_state(state_dir: Path) -> tuple[str | None, list[tuple[str, str]]]:
    """When the last landing looked at the inbox, and what it set aside unread (links, pipes,
    devices) as ('folder/name', reason); (None, []) before any landing."""
    try:
        state = json.loads((state_dir / NOT_FILES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, []
    return state.get("looked_at"), [tuple(item) for item in state.get("not_files", [])]


def inbox_not_files(paths: ProjectPaths) -> list[tuple[str, str]]:
    """What the last landing set aside unread: ('folder/name', reason)."""
    return not_files_state(paths.state_dir)[1]


def inbox_folders(paths: ProjectPaths) -> list[str]:
    """The inbox's sub-folders (one per partner, or shared ones for consolidated files); a
    folder that is a link is not one (scan_inbox sets it aside)."""
    if not paths.inbox_dir.is_dir():
        return []
    return sorted(p.name for p in paths.inbox_dir.iterdir()
                  if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))


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


def settle_seconds(registry: Registry) -> float:
    override = os.environ.get(SETTLE_ENV)
    return float(override) if override else registry.initiative.intake.settle_seconds


def land_inbox(paths: ProjectPaths, registry: Registry, folders: set[str] | None = None,
               now: datetime | None = None) -> LandingReport:
    """Land every stable inbox file not landed before (optionally only in some partner folders),
    a few at a time: readers spend most of their time outside Python (DuckDB, fastexcel)."""
    paths.ensure()
    landed_at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    listed, not_files = scan_inbox(paths)
    candidates = [(folder, path) for folder, path in listed
                  if folders is None or folder in folders]
    # not_files is the whole inbox's, whichever folders this landing takes: nothing is read.
    settle = settle_seconds(registry)
    stable, waiting = wait_until_stable([path for _, path in candidates], settle,
                                        max_wait=max(30.0, 3 * settle))
    arrived = arrivals_recording(paths, stable)
    todo, unchanged, seen = [], 0, {}
    for folder, path in candidates:
        if path not in arrived:
            continue
        try:
            sha = file_sha256(path)
        except (OSError, FileChangedWhileReading):  # gone, or no longer a file: next look
            continue
        submission_id = submission_id_for(paths, folder, sha, seen)
        if submission_id in seen or (paths.submission_dir(submission_id)
                                     / SUBMISSION_FILE).exists():
            unchanged += 1
            continue
        seen[submission_id] = folder
        todo.append((folder, path, sha, submission_id))
    arrived = earliest_by_content(paths, {path: (folder, sha) for folder, path, sha, _ in todo},
                                  arrived)

    def land(item):
        folder, path, sha, submission_id = item
        try:
            return land_file(paths, registry, folder, path, sha, landed_at, submission_id,
                             arrival=arrived[path])
        except FileChangedWhileReading:
            return None

    with ThreadPoolExecutor(max_workers=LANDING_THREADS) as pool:
        results = list(pool.map(land, todo))
    new = [submission for submission in results if submission is not None]
    waiting += [path for (_, path, _, _), result in zip(todo, results, strict=True)
                if result is None]
    report = LandingReport(new=new, unchanged=unchanged,
                           waiting=sorted(inbox_key(paths, path, path.parent.name)
                                          for path in waiting), not_files=not_files)
    write_json_atomic(paths.state_dir / WAITING_FILE,
                      {"landed_at": landed_at, "waiting": report.waiting}, indent=2, sort_keys=True)
    write_json_atomic(paths.state_dir / NOT_FILES_FILE,
                      {"looked_at": landed_at, "not_files": not_files}, indent=2, sort_keys=True)
    return report


def files_waiting(paths: ProjectPaths, since: str) -> list[str]:
    """Inbox files the last landing (at or after ``since``) left because they were still being
    written ('folder/name')."""
    try:
        state = json.loads((paths.state_dir / WAITING_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return state["waiting"] if state.get("landed_at", "") >= since else []


def settled(now: float, modified: float, watched_since: float, settle: float) -> bool:
    """Stable: unchanged for ``settle`` seconds, by its modification time or by our watching it
    (the rule the inbox sensor applies too)."""
    return settle <= 0 or now - modified >= settle or now - watched_since >= settle


def wait_until_stable(files: list[Path], settle: float, max_wait: float,
                      clock=time.time, sleep=time.sleep) -> tuple[list[Path], list[Path]]:
    """Split ``files`` into those stable now and those still being written.

    A file is stable when its size and modification time have not changed for ``settle``
    seconds: either its modification time is that old, or this function watched it unchanged
    that long (a clock that runs ahead of ours or a preserved timestamp cannot make a file that
    is still growing look old for longer than one look). Files still changing after
    ``max_wait`` seconds are returned as waiting; files that vanish are dropped."""
    started = clock()
    versions, since, stable = {}, {}, []
    pending = list(files)
    while True:
        still = []
        now = clock()
        for path in pending:
            try:
                stat = path.stat()
            except OSError:  # gone (moved away, or a temporary file renamed into place)
                continue
            version = version_of(path, stat)
            if versions.get(path) != version:
                versions[path], since[path] = version, now
            if settled(now, stat.st_mtime, since[path], settle):
                stable.append(path)
            else:
                still.append(path)
        pending = still
        if not pending or clock() - started >= max_wait:
            break
        sleep(min(1.0, max(0.05, settle / 10)))
    order = {path: index for index, path in enumerate(files)}
    return sorted(stable, key=order.__getitem__), sorted(pending, key=order.__getitem__)


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


class FileChangedWhileReading(Exception):
    """The file changed while it was being copied: still being written, left for a later run."""


def keep_copy(path: Path, received: Path, expected_sha: str | None = None) -> tuple[str, int]:
    """Copy ``path`` to ``received`` byte for byte, hashing as it goes: the kept copy, its hash
    and its size come from one read. Raises FileChangedWhileReading when the file changed
    meanwhile (its size or modification time moved, or its hash is not the one seen before)."""
    before = version_of(path)
    digest, size = hashlib.sha256(), 0
    temporary = received.with_name(f".{received.name}.part")
    with _open_regular(path) as source, temporary.open("wb") as target:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
            target.write(block)
            size += len(block)
    sha = digest.hexdigest()
    if version_of(path) != before or size != before[0] or (expected_sha and sha != expected_sha):
        temporary.unlink(missing_ok=True)
        raise FileChangedWhileReading(str(path))
    shutil.copystat(path, temporary)
    os.replace(temporary, received)
    return sha, size


def land_file(paths: ProjectPaths, registry: Registry, folder: str, path: Path, sha: str,
              landed_at: str, submission_id: str | None = None,
              arrival: Arrival | None = None) -> Submission:
    submission_id = submission_id or submission_id_for(paths, folder, sha)
    target = paths.submission_dir(submission_id)
    received = paths.received_dir / submission_id / path.name
    received.parent.mkdir(parents=True, exist_ok=True)
    sha, size = keep_copy(path, received, expected_sha=sha)
    target.mkdir(parents=True, exist_ok=True)
    modified = datetime.fromtimestamp(received.stat().st_mtime, UTC).isoformat(
        timespec="seconds")
    arrival = arrival or Arrival(landed_at, "run")
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
        inbox_path=inbox_key(paths, path, folder), received_path=str(received),
        size_bytes=size, arrived_at=arrival.first_seen, landed_at=landed_at, status=status,
        message=message, file_format=file_format.value if file_format else None, rows_read=rows,
        sheets=sheets, reader_details=json.dumps(details, sort_keys=True, default=str),
        detail=detail, modified_at=modified, arrival_source=arrival.source)
    write_json_atomic(target / SUBMISSION_FILE, asdict(submission), indent=2, sort_keys=True)
    return submission

