"""What changed: a compact record of every published snapshot, the changes between two records,
and the digest (a self-contained HTML page for the steering committee) written after each run.

* ``record_snapshot`` keeps, after each publish, the facts worth comparing (submissions,
  indicator totals and who contributed to them, milestone statuses, targets, current flags,
  partner reports, names) as a few Parquet files in ``<state>/history/<published_at>/``, outside
  the serving file; the last ``HISTORY_KEEP`` are kept.
* ``compute_changes(previous, current)`` is a pure function of two records: new submissions,
  revised totals (from -> to, which partners' values changed), first figures for a period,
  milestone statuses that changed, milestones reached or missed (a milestone or target period now
  complete, judged by the indicator's direction), flags raised and resolved, reports newly late
  or missing and reports now received.
* ``scoped`` cuts the changes to what a role may see (files, flag rows, working groups);
  ``sections`` writes them for people (the digest and the dashboard's page show the same).
* ``write_digest`` records the published snapshot and writes ``<state>/digest/latest.html`` and a
  dated copy, as the steering committee may see it: no file names, flags as counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from murmuration.digest.changes import Changes, compute_changes, scoped
from murmuration.digest.history import (
    DIGEST_NAME,
    HISTORY_KEEP,
    KEY,
    LAZY_TABLES,
    SNAPSHOT_QUERIES,
    Snapshot,
    digest_dir,
    history_dir,
    key_for_date,
    list_snapshots,
    load_snapshot,
    previous_key,
    read_snapshot,
    record_snapshot,
    snapshot_key,
)
from murmuration.digest.words import TEMPLATES, Section, headline, render_digest, sections
from murmuration.files import write_text_atomic

__all__ = [
    "DIGEST_NAME", "HISTORY_KEEP", "KEY", "LAZY_TABLES", "SNAPSHOT_QUERIES", "TEMPLATES",
    "Changes", "Digest", "Section", "Snapshot", "compute_changes", "digest_dir", "headline",
    "history_dir", "key_for_date", "latest_digest", "list_snapshots", "load_snapshot",
    "previous_key", "read_snapshot", "record_snapshot", "render_digest", "scoped", "sections",
    "snapshot_key", "write_digest",
]

# --- after each run --------------------------------------------------------------------------

@dataclass
class Digest:
    path: Path
    dated: Path
    changes: Changes


def write_digest(serving: Path, state_dir: Path) -> Digest:
    """Record the published snapshot, compare it with the one before and write the digest as
    the steering committee may see it: <state>/digest/latest.html and digest-<key>.html."""
    key = record_snapshot(serving, state_dir)
    current = load_snapshot(state_dir, key) or read_snapshot(serving)
    before = previous_key(list_snapshots(state_dir), key)
    changes = compute_changes(load_snapshot(state_dir, before) if before else None, current)
    steering = scoped(changes, file_names=False, flag_rows=False, groups=None)
    html = render_digest(steering)
    folder = digest_dir(state_dir)
    folder.mkdir(parents=True, exist_ok=True)
    dated = folder / f"digest-{key}.html"
    about = json.dumps({"published_at": changes.published_at, "since": changes.since,
                        "headline": headline(steering), "counts": steering.counts()})
    for target, text in ((dated, html), (folder / "latest.html", html),
                         (folder / "latest.json", about)):
        write_text_atomic(target, text)
    return Digest(folder / "latest.html", dated, steering)


def latest_digest(state_dir: Path) -> tuple[Path, str] | None:
    """The latest digest's path and headline (for the run summary), if one was written."""
    folder = digest_dir(state_dir)
    try:
        about = json.loads((folder / "latest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return folder / "latest.html", about["headline"]
