"""Replacements held for review, and the backbone's decision to publish them.

A submission that would remove more than half of the values it replaces, or leave a place
with none (dbt: int_held_submissions), is not published until someone accepts it. What was
accepted is kept in ``<state>/accepted.json`` (who, when, which file), read by every build as
``landing.accepted_submissions``; accepting again changes nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow as pa

from murmuration.files import write_json_atomic
from murmuration.paths import ProjectPaths

ACCEPTED_SCHEMA = pa.schema([("submission_id", pa.string()), ("accepted_at", pa.string()),
                             ("accepted_by", pa.string()), ("file", pa.string())])


def accepted(paths: ProjectPaths) -> list[dict]:
    """Every acceptance so far, oldest first."""
    try:
        entries = json.loads(paths.accepted_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    return [e for e in entries if isinstance(e, dict) and e.get("submission_id")]


def accept(paths: ProjectPaths, submissions: list[tuple[str, str]], by: str) -> list[str]:
    """Record that ``submissions`` ((submission id, file) pairs) may be published; returns the
    ids newly accepted (those already accepted are left as they were)."""
    entries = accepted(paths)
    known = {e["submission_id"] for e in entries}
    when = datetime.now(UTC).isoformat(timespec="seconds")
    new = [(sid, file) for sid, file in dict(submissions).items() if sid not in known]
    entries += [{"submission_id": sid, "accepted_at": when, "accepted_by": by, "file": file}
                for sid, file in new]
    if new:
        paths.state_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(paths.accepted_file, entries, indent=2)
    return [sid for sid, _ in new]


def accepted_table(paths: ProjectPaths) -> pa.Table:
    return pa.Table.from_pylist(
        [{name: str(entry.get(name) or "") for name in ACCEPTED_SCHEMA.names}
         for entry in accepted(paths)], schema=ACCEPTED_SCHEMA)
