"""The record of a published snapshot: the facts worth comparing, kept after each publish as a
few Parquet files in ``<state>/history/<published_at>/`` (the newest ``HISTORY_KEEP``), and
read back by key."""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from murmuration.registry.models import WHOLE_AREA
from murmuration.sqltext import literal

HISTORY_KEEP = 100
KEY = re.compile(r"^\d{8}T\d{6}Z$")
DIGEST_NAME = re.compile(r"^(latest|digest-\d{8}T\d{6}Z)\.html$")

# The facts kept per published snapshot (read from the serving file).
SNAPSHOT_QUERIES = {
    "submissions": """
        select submission_id, partner_code, folder, file_name, arrived_at, landing_status,
            message, first_period, last_period, data_rows, rows_accepted, rows_quarantined,
            values_accepted, values_current, values_quarantined, superseded_by
        from marts.submissions""",
    "totals": """
        select indicator_code, place_code, period_type, period, period_start, value,
            completeness_state, partners_reporting, partners_expected
        from marts.indicator_period_totals""",
    # Who contributed to each total (per place and for the whole area): a partner whose count,
    # sum or submissions changed is the one that revised it.
    "contributions": f"""
        with parts as (
            select indicator_code, period, place_code, partner_code, value, submission_id
            from marts.indicator_values
            union all
            select indicator_code, period, {literal(WHOLE_AREA)}, partner_code, value,
                submission_id
            from marts.indicator_values
        )
        select indicator_code, period, place_code, partner_code,
            count(*) as values_counted, sum(value) as value_sum,
            array_to_string(list_sort(list(distinct submission_id)), ',') as submissions
        from parts group by all""",
    "milestones": """
        select indicator_code, place_code, status, status_reason, latest_period, latest_value,
            milestone_kind, milestone_period, milestone_value, projected_value
        from marts.milestone_status""",
    "targets": """
        select indicator_code, place_code, point_kind, period, period_start, target_value
        from marts.indicator_targets""",
    "flags": """
        select flag_id, rule, severity, partner_code, coalesce(reporting_unit, '') as
            reporting_unit, indicator_code, period, coalesce(place_code, '') as place_code,
            coalesce(disaggregation, '') as disaggregation, value, expected_low, expected_high,
            submission_id
        from quality.value_flags where outcome = 'current'""",
    "reports": """
        select partner_code, report_period, report_start, due_date, expected, received,
            first_arrival, on_time, days_late
        from quality.partner_period_reports""",
    "indicators": """
        select indicator_code, short_name, direction, aggregation, numerator_code,
            denominator_code, working_group_code, working_group_name, unit_name, decimals,
            display_order
        from marts.indicators""",
    "partners": "select partner_code, partner_name from marts.partners",
    "places": "select place_code, place_name, display_order from marts.places",
}
LAZY_TABLES = {"contributions"}
META_QUERY = """
    select p.published_at, i.initiative_name, i.period_type, i.as_of::varchar as as_of
    from main.published p, marts.initiative i"""
FLAG_KEY = ["rule", "partner_code", "reporting_unit", "indicator_code", "period", "place_code",
            "disaggregation"]



@dataclass
class Snapshot:
    """The facts of one published snapshot (tables as in SNAPSHOT_QUERIES)."""

    published_at: str
    initiative_name: str
    period_type: str
    as_of: str
    # A kept snapshot's large tables stay in their Parquet file until a whole one is asked for
    # (LAZY_TABLES): the digest reads only the contributions of the totals that changed.
    tables: dict[str, pd.DataFrame | Path] = field(repr=False)

    def __getitem__(self, name: str) -> pd.DataFrame:
        table = self.tables[name]
        if isinstance(table, Path):
            table = self.tables[name] = pd.read_parquet(table)
        return table

    @property
    def key(self) -> str:
        return snapshot_key(self.published_at)


def snapshot_key(published_at: str) -> str:
    """'2026-11-29T18:37:49+00:00' -> '20261129T183749Z' (a folder and file name)."""
    moment = datetime.fromisoformat(published_at)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def history_dir(state_dir: Path) -> Path:
    return Path(state_dir) / "history"


def digest_dir(state_dir: Path) -> Path:
    return Path(state_dir) / "digest"


def _connect(serving: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(serving), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    return con


def _meta(con) -> dict:
    published_at, name, period_type, as_of = con.execute(META_QUERY).fetchall()[0]
    return {"published_at": published_at, "initiative_name": name, "period_type": period_type,
            "as_of": as_of}


def read_snapshot(serving: Path) -> Snapshot:
    """The facts of the published serving file itself (read-only)."""
    con = _connect(serving)
    try:
        meta = _meta(con)
        tables = {name: con.execute(sql).df() for name, sql in SNAPSHOT_QUERIES.items()}
    finally:
        con.close()
    return Snapshot(tables=tables, **meta)


def record_snapshot(serving: Path, state_dir: Path, keep: int = HISTORY_KEEP) -> str:
    """Keep the published snapshot's facts in <state>/history/<key>/ (Parquet, written under a
    temporary name and renamed into place); a snapshot already kept is left as it is. Prunes to
    the newest ``keep``. Returns the key."""
    root = history_dir(state_dir)
    root.mkdir(parents=True, exist_ok=True)
    con = _connect(serving)
    try:
        meta = _meta(con)
        key = snapshot_key(meta["published_at"])
        target = root / key
        if not (target / "meta.json").exists():
            building = root / f".building-{key}"
            shutil.rmtree(building, ignore_errors=True)
            building.mkdir()
            for name, sql in SNAPSHOT_QUERIES.items():
                file = literal(building / f"{name}.parquet")
                con.execute(f"copy ({sql}) to {file} (format parquet)")
            (building / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
            shutil.rmtree(target, ignore_errors=True)
            os.replace(building, target)
    finally:
        con.close()
    for old in list_snapshots(state_dir)[:-keep] if keep > 0 else []:
        shutil.rmtree(root / old["key"], ignore_errors=True)
        (digest_dir(state_dir) / f"digest-{old['key']}.html").unlink(missing_ok=True)
    return key


def list_snapshots(state_dir: Path) -> list[dict]:
    """The kept snapshots, oldest first: [{'key', 'published_at'}]."""
    root = history_dir(state_dir)
    found = []
    for folder in sorted(root.glob("*")) if root.exists() else []:
        if not KEY.match(folder.name):
            continue
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # being written or pruned
        found.append({"key": folder.name, "published_at": meta["published_at"]})
    return sorted(found, key=lambda s: s["key"])


def load_snapshot(state_dir: Path, key: str) -> Snapshot | None:
    """A kept snapshot by its key (None when it is not kept, or no longer)."""
    if not KEY.match(key or ""):
        return None
    folder = history_dir(state_dir) / key
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        tables = {name: pd.read_parquet(folder / f"{name}.parquet")
                  for name in SNAPSHOT_QUERIES if name not in LAZY_TABLES}
    except (OSError, ValueError):
        return None
    for name in LAZY_TABLES:
        tables[name] = folder / f"{name}.parquet"
        if not tables[name].is_file():
            return None
    return Snapshot(tables=tables, **meta)


def previous_key(snapshots: list[dict], current_key: str) -> str | None:
    """The snapshot published just before ``current_key`` (the previous run)."""
    earlier = [s["key"] for s in snapshots if s["key"] < current_key]
    return earlier[-1] if earlier else None


def key_for_date(snapshots: list[dict], day, current_key: str) -> str | None:
    """What 'since <day>' compares with: the latest snapshot published before the day began
    (UTC); the earliest kept one when none is that old."""
    start = pd.Timestamp(day).strftime("%Y%m%dT000000Z")
    earlier = [s["key"] for s in snapshots if s["key"] < current_key]
    before = [k for k in earlier if k <= start]
    return before[-1] if before else (earlier[0] if earlier else None)
