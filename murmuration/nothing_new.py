"""Nothing new, nothing run: what a run's result depends on, as one fingerprint, so a run with
no new file, no changed definition and no changed code answers in a moment without starting
Dagster, dbt or Great Expectations.

After a run that published and can be trusted (it ended, nothing was held or left half-written
in the inbox) the fingerprint is kept in the state folder with the moment it published. Any run
that starts writing (the command line's or one Dagster launches) forgets it first, so a killed or
failed run, or one launched from the Dagster UI, never leaves a fingerprint that vouches for a
warehouse it changed. A later run compares: the same fingerprint and the same published
snapshot on disk mean the run would publish what is already published.

The fingerprint holds:
- every file in the inbox, by path, size and modification time (a file touched, renamed or
  replaced counts as new: landing tells what is really new, by content);
- the initiative's definitions (initiative.yaml, registry/, mappings/) and the replacements the
  backbone accepted (accepted.json), by content;
- the code that turns them into the snapshot (the Python packages, the dbt project, the locked
  dependencies), by content;
- the day reports are judged against (a report falls due at a day's start) and every
  MURMURATION_* setting that changes what a run does.
Stdlib only: the check must stay cheaper than importing what it spares.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from murmuration.paths import (
    AS_OF_ENV,
    DAGSTER_URL_ENV,
    DBT_PROJECT_DIR,
    PORT_ENV,
    PROJECT_ENV,
    REPO_ROOT,
    SCHEDULE_ENV,
    STATE_ENV,
    ProjectPaths,
)

RECORD_NAME = "last-trusted-run.json"
FORMAT = 1
CODE_DIRS = ("murmuration", "orchestration", "expectations", "app")
# Settings that say where things are served, where the initiative is, the moment (its day
# counts), how long to wait, how much memory and how many threads a step may use: the same
# snapshot either way.
NOT_RUN_SETTINGS = {*PORT_ENV.values(), AS_OF_ENV, PROJECT_ENV, STATE_ENV, SCHEDULE_ENV, DAGSTER_URL_ENV,
                    "MURMURATION_LOCK_WAIT_SECONDS", "MURMURATION_SECURE_COOKIES",
                    "MURMURATION_DUCKDB_MEMORY", "MURMURATION_DUCKDB_SPILL",
                    "MURMURATION_DUCKDB_THREADS", "MURMURATION_INTAKE_MEMORY"}


PART_WORDS = {"code": "the code (an upgrade)", "definitions": "the registry or the mappings",
              "accepted replacements": "the replacements accepted for publishing",
              "inbox": "the files in the inbox", "day": "the day reports are judged against",
              "settings": "a MURMURATION_* setting"}


@dataclass(frozen=True)
class Unchanged:
    published_at: str  # ISO instant of the publish the kept fingerprint vouches for


def record_file(paths: ProjectPaths) -> Path:
    return paths.state_dir / RECORD_NAME


def _digest_files(digest, root: Path, files) -> None:
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError as error:  # unreadable now: never equal to a readable past
            digest.update(f"<{type(error).__name__}>".encode())
        digest.update(b"\0")


def _tree(folder: Path, suffixes: tuple[str, ...] | None = None) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and (suffixes is None or p.suffix in suffixes))


def code_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in CODE_DIRS:
        _digest_files(digest, REPO_ROOT, _tree(REPO_ROOT / name, (".py",)))
    dbt = [p for p in _tree(DBT_PROJECT_DIR, (".sql", ".yml", ".yaml", ".csv"))
           if not {"target", "logs", "dbt_packages"} & set(p.relative_to(DBT_PROJECT_DIR).parts)]
    _digest_files(digest, REPO_ROOT, dbt)
    _digest_files(digest, REPO_ROOT, [p for p in (REPO_ROOT / "uv.lock",) if p.exists()])
    return digest.hexdigest()


def _inbox(digest, paths: ProjectPaths) -> None:
    inbox = paths.inbox_dir
    if not inbox.is_dir():
        digest.update(b"<no inbox>")
        return
    for root, folders, files in os.walk(inbox, followlinks=False):
        folders.sort()
        for name in sorted(files + [f for f in folders if os.path.islink(os.path.join(root, f))]):
            path = Path(root, name)
            try:
                stat = path.lstat()
                digest.update(f"{path.relative_to(inbox)}\0{stat.st_size}\0{stat.st_mtime_ns}\0"
                              f"{stat.st_mode}\0".encode())
            except OSError:
                digest.update(f"{path.relative_to(inbox)}\0<gone>\0".encode())


def judged_day() -> str:
    fixed = os.environ.get(AS_OF_ENV)
    moment = datetime.fromisoformat(fixed) if fixed else datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date().isoformat()


def fingerprint(paths: ProjectPaths) -> dict[str, str]:
    """What a run starts from, part by part (a part that changed is named in what a run says)."""
    parts = {"code": code_fingerprint()}
    digest = hashlib.sha256()
    definitions = [p for p in (paths.initiative_file,) if p.exists()]
    definitions += _tree(paths.registry_dir) + _tree(paths.mappings_dir)
    _digest_files(digest, paths.project_dir, definitions)
    parts["definitions"] = digest.hexdigest()
    parts["accepted replacements"] = hashlib.sha256(
        paths.accepted_file.read_bytes() if paths.accepted_file.exists() else b"").hexdigest()
    digest = hashlib.sha256()
    _inbox(digest, paths)
    parts["inbox"] = digest.hexdigest()
    parts["day"] = judged_day()
    settings = sorted((k, v) for k, v in os.environ.items()
                      if k.startswith("MURMURATION_") and k not in NOT_RUN_SETTINGS)
    parts["settings"] = hashlib.sha256(json.dumps(settings).encode()).hexdigest()
    return parts


def _serving_stamp(paths: ProjectPaths) -> list[int] | None:
    try:
        stat = paths.serving.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def forget(paths: ProjectPaths) -> None:
    """A run is about to write: whatever the kept fingerprint vouched for may change."""
    record_file(paths).unlink(missing_ok=True)


def remember(paths: ProjectPaths, started_from: dict[str, str],
             published_at: str | None = None) -> None:
    """The run that just ended published and can be trusted: keep what it started from (its
    ``fingerprint`` taken before it ran: a file that came in while it ran is new next time)."""
    stamp = _serving_stamp(paths)
    if stamp is None:
        return
    record = {"format": FORMAT, "fingerprint": started_from, "serving": stamp,
              "published_at": published_at or datetime.now(UTC).isoformat(timespec="seconds")}
    target = record_file(paths)
    partial = target.with_suffix(".partial")
    partial.write_text(json.dumps(record, indent=1))
    os.replace(partial, target)


def unchanged(paths: ProjectPaths, now: dict[str, str] | None = None) -> Unchanged | None:
    """The kept run, when a run now (``now``: its fingerprint) would start from exactly what it
    started from and the snapshot it published is still the one on disk; None otherwise (a
    missing, unreadable or other-format record too: then the run runs)."""
    try:
        record = json.loads(record_file(paths).read_text())
        if record.get("format") != FORMAT or record.get("serving") != _serving_stamp(paths):
            return None
        if record.get("fingerprint") != (now if now is not None else fingerprint(paths)):
            return None
        return Unchanged(published_at=str(record["published_at"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def why_run(paths: ProjectPaths, now: dict[str, str]) -> str:
    """Why a run cannot stand on the last one, in words."""
    try:
        record = json.loads(record_file(paths).read_text())
    except FileNotFoundError:
        return ("no earlier run to stand on (the first run, or the last one did not end with a "
                "trusted publish)")
    except (OSError, ValueError):
        return "the record of the last run could not be read"
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        return "the record of the last run is from another version"
    if record.get("serving") != _serving_stamp(paths):
        return "the published snapshot is not the one the last run published"
    kept = record.get("fingerprint") or {}
    changed = [PART_WORDS.get(part, part) for part in now if kept.get(part) != now[part]]
    return "changed since the last run: " + ", ".join(changed) if changed else "asked to"
