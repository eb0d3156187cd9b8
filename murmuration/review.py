"""What a run holds back for a person to look at, and the backbone's decision to publish it.

* A replacement held for review: a submission that would remove more than half of the values
  it replaces, or leave a place with none (dbt: int_held_submissions). Its values are not
  published; the rest is.
* A file emptied by a rule change: the published snapshot had accepted values of it and the
  new build has none (a mapping written before a stricter rule). Nothing is published until
  the mapping is fixed or the file accepted: an upgrade must not empty an initiative quietly.

What was accepted is kept in ``<state>/accepted.json`` (who, when, which file), read by every
build as ``landing.accepted_submissions``; accepting again changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
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


# --- what a run holds back -------------------------------------------------------------------

@dataclass
class HeldBack:
    """A submission whose change the run did not publish, and why."""

    submission_id: str
    location: str  # inbox folder / file name
    reason: str
    kind: str  # 'held' (a replacement held for review) or 'emptied' (a rule change)


def held_for_review(con) -> list[HeldBack]:
    """Replacements held for review, from a warehouse or serving connection."""
    try:
        rows = con.execute(
            "select submission_id, folder || '/' || file_name, held_reason "
            "from marts.submissions where held_reason is not null order by 2").fetchall()
    except Exception:  # noqa: BLE001 - a warehouse built before there was review: nothing held
        return []
    return [HeldBack(sid, location, reason, "held") for sid, location, reason in rows]


def emptied_by_rules(paths: ProjectPaths) -> list[HeldBack]:
    """Files the published snapshot had accepted values of and the new build has none (a rule
    or mapping change quarantines every row), unless accepted; with the rule that now
    quarantines them and how to fix the mapping."""
    if not paths.serving.exists() or not paths.warehouse.exists():
        return []
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.execute(f"attach '{_quoted(paths.serving)}' as published (read_only)")
        con.execute(f"attach '{_quoted(paths.warehouse)}' as built (read_only)")
        rows = con.execute("""
            select now.submission_id, now.folder || '/' || now.file_name, now.mapping_name,
                before.values_accepted,
                (select quarantine_reason from built.marts.quarantined_values q
                 where q.submission_id = now.submission_id
                 group by 1 order by count(*) desc, 1 limit 1)
            from built.marts.submissions now
            join published.marts.submissions before using (submission_id)
            where before.values_accepted > 0 and now.values_accepted = 0
                and now.landing_status = 'landed'
            order by 2""").fetchall()
    except duckdb.Error:  # an older snapshot without these tables: nothing to compare
        return []
    finally:
        con.close()
    done = {entry["submission_id"] for entry in accepted(paths)}
    return [HeldBack(sid, location, _emptied_reason(mapping, count, reason), "emptied")
            for sid, location, mapping, count, reason in rows if sid not in done]


def _emptied_reason(mapping: str | None, count: int, reason: str | None) -> str:
    said = reason or "no row reads"
    if said.startswith("not the agreed template"):
        fix = (f"list the template's other columns under ignore_columns in mapping {mapping}, "
               "or raise its max_unknown_columns")
    elif said.startswith("the header row was not found"):
        fix = (f"name the columns as the files write them in mapping {mapping} (a list of "
               "alternatives covers template versions)")
    elif "is not a known" in said or "is not a reporting unit" in said:
        fix = f"add the text as an alias in the registry, or to the codes of mapping {mapping}"
    elif "not in a recognised format" in said:
        fix = f"add the format to period_formats in mapping {mapping}"
    elif mapping is None:
        fix = "add a mapping under mappings/ whose applies_to covers the file again"
    else:
        fix = f"correct mapping {mapping} (or the registry) so the rows read again"
    return (f"had {count:,} accepted values in the published snapshot and now has none: every "
            f"row is quarantined as \"{said}\". To fix it, {fix}; to publish it anyway, "
            "`murmuration accept` the file")


def _quoted(path) -> str:
    return str(path).replace("'", "''")
