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
import math
import os
import re
import shutil
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from murmuration.files import write_text_atomic
from murmuration.formatting import (
    format_change,
    format_count,
    format_date,
    format_datetime,
    format_period,
    format_value,
)
from murmuration.registry.models import WHOLE_AREA
from murmuration.sqltext import literal

HISTORY_KEEP = 100
KEY = re.compile(r"^\d{8}T\d{6}Z$")
DIGEST_NAME = re.compile(r"^(latest|digest-\d{8}T\d{6}Z)\.html$")
TEMPLATES = Environment(loader=PackageLoader("murmuration", "templates"),
                        autoescape=select_autoescape(["html"]), trim_blocks=True,
                        lstrip_blocks=True)

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


# --- the record of a published snapshot ------------------------------------------------------

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


# --- the changes between two records ---------------------------------------------------------

@dataclass
class Changes:
    initiative_name: str
    period_type: str
    published_at: str
    since: str | None  # published_at of the snapshot compared with; None: nothing to compare
    new_submissions: list[dict] = field(default_factory=list)
    revised_totals: list[dict] = field(default_factory=list)
    first_figures: list[dict] = field(default_factory=list)
    status_changes: list[dict] = field(default_factory=list)
    milestones: list[dict] = field(default_factory=list)
    flags_raised: list[dict] = field(default_factory=list)
    flags_resolved: list[dict] = field(default_factory=list)
    reports_late: list[dict] = field(default_factory=list)
    reports_received: list[dict] = field(default_factory=list)
    files_not_read: int = 0  # new files that could not be read (details: the backbone's)
    file_names: bool = True  # whether file names are in (the backbone's view)
    flag_rows: bool = True  # whether flags are one row each (else counts per indicator)

    def counts(self) -> dict[str, int]:
        return {"new submissions": len(self.new_submissions),
                "totals revised": len(self.revised_totals),
                "first figures": len(self.first_figures),
                "statuses changed": len(self.status_changes),
                "milestones reached or missed": len(self.milestones),
                "flags raised": _flag_total(self.flags_raised, self.flag_rows),
                "flags resolved": _flag_total(self.flags_resolved, self.flag_rows),
                "reports newly late or missing": len(self.reports_late),
                "missing reports now received": len(self.reports_received)}

    @property
    def nothing(self) -> bool:
        return not any(self.counts().values()) and not self.files_not_read


def _flag_total(rows: list[dict], one_each: bool) -> int:
    return len(rows) if one_each else sum(r["flags"] for r in rows)


def _same(a, b) -> bool:
    if _missing(a) or _missing(b):
        return _missing(a) and _missing(b)
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def _missing(value) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _clean(value):
    """pandas' missing values and numpy scalars as plain Python values."""
    if _missing(value) or value is pd.NA:
        return None
    if hasattr(value, "item") and not isinstance(value, pd.Timestamp):
        return value.item()
    return value


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _lookup(frame: pd.DataFrame, key: str, value: str) -> dict:
    return dict(zip(frame[key], frame[value], strict=True)) if not frame.empty else {}


def _contributions(snapshot: Snapshot, wanted: set[tuple]) -> dict[tuple, dict[str, tuple]]:
    """(indicator, period, place) -> {partner: (values, sum, submissions)}, for the wanted
    (indicator, period, place) keys only."""
    found: dict[tuple, dict[str, tuple]] = {}
    if not wanted:
        return found
    keys = pd.DataFrame(sorted(wanted), columns=["indicator_code", "period", "place_code"])
    kept = snapshot.tables["contributions"]
    columns = ["indicator_code", "period", "place_code", "partner_code", "values_counted",
               "value_sum", "submissions"]
    if isinstance(kept, Path):  # millions of rows at national scale: only the wanted ones read
        con = duckdb.connect()
        try:
            con.register("wanted", keys)
            rows = con.execute(f"select {', '.join(f'c.{c}' for c in columns)} from "
                               "read_parquet(?) as c inner join wanted using "
                               "(indicator_code, period, place_code)", [str(kept)]).fetchall()
        finally:
            con.close()
    else:
        rows = kept.merge(keys.astype({c: kept[c].dtype for c in keys.columns}),
                          on=list(keys.columns))[columns].itertuples(index=False, name=None)
    for code, period, place, partner, counted, total, submissions in rows:
        found.setdefault((code, period, place), {})[partner] = (
            int(counted), round(float(total), 9), submissions)
    return found


def _parts(indicator: dict | None, code: str) -> list[str]:
    """The reported codes a total is built from (a ratio: its numerator and denominator)."""
    if indicator and indicator.get("aggregation") == "ratio":
        return [c for c in (indicator.get("numerator_code"), indicator.get("denominator_code"))
                if c]
    return [code]


def _partners_of(contributions, codes, period, place) -> dict[str, tuple]:
    merged: dict[str, tuple] = {}
    for code in codes:
        for partner, fact in contributions.get((code, period, place), {}).items():
            merged[partner] = merged.get(partner, ()) + (code, *fact)
    return merged


def _verdict(direction: str | None, actual, target) -> bool | None:
    if _missing(actual) or _missing(target):
        return None
    if direction == "higher_is_better":
        return float(actual) >= float(target)
    if direction == "lower_is_better":
        return float(actual) <= float(target)
    return None  # neutral: no better side


def _report_state(row) -> str:
    if row is None:
        return "none"
    if bool(row["received"]):
        return "late" if not bool(row["on_time"]) else "on time"
    return "missing" if bool(row["expected"]) else "not due"


def compute_changes(previous: Snapshot | None, current: Snapshot) -> Changes:
    """What changed from ``previous`` to ``current`` (a pure function of the two records).
    Without a previous record there is nothing to compare: every section is empty."""
    changes = Changes(initiative_name=current.initiative_name,
                      period_type=current.period_type, published_at=current.published_at,
                      since=previous.published_at if previous else None)
    if previous is None:
        return changes
    names = _Names(previous, current)
    _new_submissions(names, previous, current, changes)
    _totals_changed(names, previous, current, changes)
    _statuses_changed(names, previous, current, changes)
    _milestones_judged(names, previous, current, changes)
    _flags_changed(names, previous, current, changes)
    _reports_changed(names, previous, current, changes)
    return changes


class _Names:
    """What the digest says about a code: an indicator's name and order, a partner's and a
    place's name (from the current snapshot, else the previous one)."""

    def __init__(self, previous: Snapshot, current: Snapshot):
        self.indicators = {r["indicator_code"]: r for r in _records(current["indicators"])}
        for row in _records(previous["indicators"]):
            self.indicators.setdefault(row["indicator_code"], row)
        self.partners = {**_lookup(previous["partners"], "partner_code", "partner_name"),
                         **_lookup(current["partners"], "partner_code", "partner_name")}
        self.places = {**_lookup(previous["places"], "place_code", "place_name"),
                       **_lookup(current["places"], "place_code", "place_name"),
                       WHOLE_AREA: "Whole area"}
        self.place_order = {**_lookup(current["places"], "place_code", "display_order"),
                            WHOLE_AREA: -1}

    def about(self, code: str) -> dict:
        i = self.indicators.get(code) or {}
        return {"indicator_code": code, "short_name": i.get("short_name") or code,
                "working_group_code": i.get("working_group_code"),
                "unit": i.get("unit_name") or "", "decimals": int(i.get("decimals") or 0),
                "direction": i.get("direction"), "display_order": i.get("display_order", 999)}

    def partner(self, code) -> dict:
        return {"partner_code": code, "partner_name": self.partners.get(code) or code or "-"}

    def place(self, code) -> dict:
        return {"place_code": code, "place_name": self.places.get(code, code)}


def _new_submissions(names: _Names, previous: Snapshot, current: Snapshot,
                     changes: Changes) -> None:
    """New submissions, and how many earlier ones each replaced."""
    before = previous["submissions"].set_index("submission_id")
    now = current["submissions"]
    for row in _records(now[~now["submission_id"].isin(before.index)]
                        .sort_values(["arrived_at", "submission_id"], ascending=False)):
        replaced = now[(now["superseded_by"] == row["submission_id"])]
        replaced = [s for s in replaced["submission_id"]
                    if s not in before.index or _missing(before.loc[s, "superseded_by"])]
        changes.new_submissions.append({**row, **names.partner(row["partner_code"]),
                                        "replaces": len(replaced)})


def _totals_changed(names: _Names, previous: Snapshot, current: Snapshot,
                    changes: Changes) -> None:
    """Totals at the initiative's period type: revised values (and by whom), first figures."""
    period_type = current.period_type
    old_totals = previous["totals"][previous["totals"]["period_type"] == period_type]
    new_totals = current["totals"][current["totals"]["period_type"] == period_type]
    keys = ["indicator_code", "place_code", "period"]
    merged = new_totals.merge(old_totals, on=keys, how="left", suffixes=("", "_was"),
                              indicator=True)
    both = merged[merged["_merge"] == "both"]
    # Equal values are the same; only the others are compared with the tolerance (as records:
    # every total of a national initiative as a dict was seconds a run).
    differing = (both["value"] != both["value_was"]) | \
        (both["value"].isna() != both["value_was"].isna())
    differing = differing.fillna(True).astype(bool)  # pandas' NA compares as NA
    revised = [row for row in _records(both[differing])
               if not _same(row["value"], row["value_was"])]
    # Who contributed, read only for the revised totals (all contributions are millions of
    # rows at national scale: a dict of every one took a minute and gigabytes).
    indicators = names.indicators
    wanted = {(code, row["period"], row["place_code"]) for row in revised
              for code in _parts(indicators.get(row["indicator_code"]), row["indicator_code"])}
    old_parts, new_parts = _contributions(previous, wanted), _contributions(current, wanted)
    for row in revised:
        codes = _parts(indicators.get(row["indicator_code"]), row["indicator_code"])
        was = _partners_of(old_parts, codes, row["period"], row["place_code"])
        is_ = _partners_of(new_parts, codes, row["period"], row["place_code"])
        revised_by = sorted(p for p in set(was) | set(is_) if was.get(p) != is_.get(p))
        changes.revised_totals.append({
            **names.about(row["indicator_code"]), **names.place(row["place_code"]),
            "period": row["period"], "period_start": row["period_start"],
            "value_from": row["value_was"], "value_to": row["value"],
            "change": (None if _missing(row["value"]) or _missing(row["value_was"])
                       else row["value"] - row["value_was"]),
            "state_from": row["completeness_state_was"], "state_to": row["completeness_state"],
            "partners_reporting": row["partners_reporting"],
            "partners_expected": row["partners_expected"],
            "revised_by": [names.partners.get(p, p) for p in revised_by],
            "reported_by": sorted(names.partners.get(p, p) for p in is_)})
    changes.revised_totals.sort(key=lambda r: names.place_order.get(r["place_code"], 99))
    changes.revised_totals.sort(key=lambda r: r["period"] or "", reverse=True)
    changes.revised_totals.sort(key=lambda r: r["display_order"])
    for row in _records(merged[(merged["_merge"] == "left_only")
                               & (merged["place_code"] == WHOLE_AREA)]):
        changes.first_figures.append({
            **names.about(row["indicator_code"]), "period": row["period"],
            "period_start": row["period_start"], "value": row["value"],
            "state": row["completeness_state"], "partners_reporting": row["partners_reporting"],
            "partners_expected": row["partners_expected"]})
    changes.first_figures.sort(key=lambda r: (r["display_order"], r["period"] or ""))


def _statuses_changed(names: _Names, previous: Snapshot, current: Snapshot,
                      changes: Changes) -> None:
    """Milestone statuses that changed."""
    status = current["milestones"].merge(previous["milestones"], how="outer",
                                         on=["indicator_code", "place_code"],
                                         suffixes=("", "_was"))
    for row in _records(status):
        if row["status"] == row["status_was"]:
            continue
        changes.status_changes.append({
            **names.about(row["indicator_code"]), **names.place(row["place_code"]),
            "status_from": row["status_was"], "status_to": row["status"],
            "reason": row["status_reason"], "milestone_period": row["milestone_period"],
            "milestone_value": row["milestone_value"], "projected_value": row["projected_value"]})
    changes.status_changes.sort(key=lambda r: (r["display_order"],
                                               names.place_order.get(r["place_code"], 99)))


def _milestones_judged(names: _Names, previous: Snapshot, current: Snapshot,
                       changes: Changes) -> None:
    """Milestones and targets whose period is now complete: met or missed."""
    period_type = current.period_type

    def judged(snapshot: Snapshot) -> dict[tuple, tuple]:
        points = snapshot["targets"][snapshot["targets"]["point_kind"] != "baseline"]
        totals = snapshot["totals"][snapshot["totals"]["period_type"] == period_type]
        both = points.merge(totals, on=["indicator_code", "place_code", "period"], how="left",
                            suffixes=("", "_total"))
        found = {}
        for row in _records(both):
            if row["completeness_state"] != "complete":
                continue
            direction = (names.indicators.get(row["indicator_code"]) or {}).get("direction")
            found[(row["indicator_code"], row["place_code"], row["point_kind"],
                   row["period"])] = (row["value"], row["target_value"],
                                      _verdict(direction, row["value"], row["target_value"]),
                                      row["period_start"])
        return found

    was_judged, now_judged = judged(previous), judged(current)
    for (code, place, kind, period), (actual, target, met, start) in now_judged.items():
        earlier = was_judged.get((code, place, kind, period))
        if earlier is not None and earlier[2] == met:
            continue
        changes.milestones.append({
            **names.about(code), **names.place(place),
            "kind": kind, "period": period, "period_start": start, "target": target,
            "actual": actual, "met": met,
            "before": ("not complete" if earlier is None else
                       {True: "met", False: "missed", None: "no verdict"}[earlier[2]])})
    changes.milestones.sort(key=lambda r: (r["display_order"], r["period"],
                                           names.place_order.get(r["place_code"], 99)))


def _flags_changed(names: _Names, previous: Snapshot, current: Snapshot,
                   changes: Changes) -> None:
    """Flags raised and resolved (by what they are about, not their id: a resubmission keeps a
    flag it repeats)."""
    old_flags, new_flags = previous["flags"], current["flags"]

    def only_in(frame: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
        """Rows of ``frame`` whose key is not in ``other`` (a join, not a loop: a national
        initiative carries hundreds of thousands of flags)."""
        mine = frame[FLAG_KEY].fillna("").astype(str)
        theirs = other[FLAG_KEY].fillna("").astype(str).drop_duplicates()
        found = mine.merge(theirs, how="left", on=FLAG_KEY, indicator=True)["_merge"]
        return frame[(found == "left_only").to_numpy()]

    for frame, others, target in ((new_flags, old_flags, changes.flags_raised),
                                  (old_flags, new_flags, changes.flags_resolved)):
        for row in _records(only_in(frame, others)):
            target.append({**names.about(row["indicator_code"]),
                           **names.partner(row["partner_code"]),
                           "rule": row["rule"], "severity": row["severity"],
                           "period": row["period"], "place_code": row["place_code"],
                           "place_name": names.places.get(row["place_code"],
                                                          row["place_code"]) or "",
                           "breakdown": row["disaggregation"], "value": row["value"],
                           "expected_low": row["expected_low"],
                           "expected_high": row["expected_high"]})
        target.sort(key=lambda r: (r["display_order"], r["period"] or "", r["partner_name"]))


def _reports_changed(names: _Names, previous: Snapshot, current: Snapshot,
                     changes: Changes) -> None:
    """Partners' reports: newly late or missing, and missing ones now received."""
    old_reports = {(r["partner_code"], r["report_period"]): r
                   for r in _records(previous["reports"])}
    for row in _records(current["reports"]):
        was = old_reports.get((row["partner_code"], row["report_period"]))
        state, state_was = _report_state(row), _report_state(was)
        entry = {**names.partner(row["partner_code"]), "period": row["report_period"],
                 "period_start": row["report_start"], "due_date": row["due_date"],
                 "first_arrival": row["first_arrival"], "days_late": row["days_late"],
                 "state": state, "before": state_was}
        if state in ("missing", "late") and state != state_was:
            changes.reports_late.append(entry)
        elif state_was == "missing" and state == "on time":
            changes.reports_received.append(entry)
    for rows in (changes.reports_late, changes.reports_received):
        rows.sort(key=lambda r: (r["period"], r["partner_name"]), reverse=True)


def scoped(changes: Changes, *, file_names: bool, flag_rows: bool,
           groups: tuple[str, ...] | None) -> Changes:
    """What one audience may see: file names and files not read only for the backbone; flags
    one row each (partner, value) or as counts per indicator and check; only the indicators of
    ``groups`` (None: all)."""
    def mine(rows: list[dict]) -> list[dict]:
        return [r for r in rows if groups is None or r.get("working_group_code") in groups]

    submissions = changes.new_submissions
    not_read = changes.files_not_read
    if not file_names:
        not_read += sum(1 for s in submissions if s["landing_status"] != "landed")
        submissions = [{**s, "file_name": None, "folder": None, "message": None}
                       for s in submissions if s["landing_status"] == "landed"]
    raised, resolved = mine(changes.flags_raised), mine(changes.flags_resolved)
    if changes.flag_rows and not flag_rows:
        raised, resolved = _flag_counts(raised), _flag_counts(resolved)
    return replace(changes, new_submissions=submissions, files_not_read=not_read,
                   revised_totals=mine(changes.revised_totals),
                   first_figures=mine(changes.first_figures),
                   status_changes=mine(changes.status_changes),
                   milestones=mine(changes.milestones), flags_raised=raised,
                   flags_resolved=resolved, file_names=changes.file_names and file_names,
                   flag_rows=changes.flag_rows and flag_rows)


def _flag_counts(rows: list[dict]) -> list[dict]:
    counted: dict[tuple, dict] = {}
    for row in rows:
        key = (row["indicator_code"], row["rule"], row["severity"])
        entry = counted.setdefault(key, {k: row[k] for k in (
            "indicator_code", "short_name", "working_group_code", "display_order", "rule",
            "severity")} | {"flags": 0})
        entry["flags"] += 1
    return sorted(counted.values(), key=lambda r: (r["display_order"], r["rule"], r["severity"]))


# --- for people ------------------------------------------------------------------------------

SINGULAR = {"new submissions": "new submission", "totals revised": "total revised",
            "first figures": "first figure", "statuses changed": "status changed",
            "milestones reached or missed": "milestone reached or missed",
            "flags raised": "flag raised", "flags resolved": "flag resolved",
            "reports newly late or missing": "report newly late or missing",
            "missing reports now received": "missing report now received"}
STATUS_WORDS = {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track",
                "no_data": "No data", None: "-"}
STATE_WORDS = {"complete": "complete", "incomplete": "incomplete",
               "not_yet_due": "not yet due", None: "-"}


def _rule(rule: str, severity: str | None) -> str:
    words = rule.replace("_", " ").capitalize()
    return f"{words} ({severity})" if severity and severity != "flag" else words


def _report_words(state: str, days_late) -> str:
    if state == "missing":
        return "not received"
    if state == "late":
        return f"received {format_count(days_late)} days late" if days_late else "received late"
    return {"on time": "received on time", "not due": "not yet due", "none": "-"}[state]


@dataclass
class Section:
    key: str
    title: str
    columns: dict[str, str]  # field -> heading
    rows: list[dict]  # values written for people
    empty: str
    note: str = ""
    numeric: tuple[str, ...] = ()


NONE = "None."


def sections(changes: Changes) -> list[Section]:
    """The changes written for people, a section each (the digest and the page show these)."""
    return [_submissions_section(changes), *_figure_sections(changes),
            *_flag_sections(changes), *_report_sections(changes)]


def _period(changes: Changes, row, name="period", start="period_start") -> str:
    return format_period(row.get(name), row.get(start), changes.period_type)


def _value(row, name) -> str:
    return format_value(row.get(name), row["decimals"], row["unit"])


def _submissions_section(changes: Changes) -> Section:
    submission_columns = {"partner": "Partner", "periods": "Periods", "arrived": "Arrived",
                          "accepted": "Values accepted", "quarantined": "Rows quarantined",
                          "note": "Note"}
    if changes.file_names:
        submission_columns = {"file": "File", **submission_columns}
    rows = []
    for s in changes.new_submissions:
        periods = " to ".join(dict.fromkeys(p for p in (s["first_period"], s["last_period"]) if p))
        note = []
        if s["replaces"]:
            note.append(f"replaces {s['replaces']} earlier file{'s' if s['replaces'] > 1 else ''}")
        if s["landing_status"] != "landed":
            note.append(f"{s['landing_status']}: {s['message'] or ''}".strip(": "))
        elif changes.file_names and s.get("message"):
            note.append(s["message"])
        rows.append({"file": s.get("file_name") or "", "partner": s["partner_name"],
                     "periods": periods or "-", "arrived": format_datetime(s["arrived_at"]),
                     "accepted": format_count(s["values_accepted"]),
                     "quarantined": format_count(s["rows_quarantined"]), "note": "; ".join(note)})
    return Section(
        "submissions", "New submissions", submission_columns, rows, NONE,
        note=(f"{changes.files_not_read} more new file{'s' if changes.files_not_read > 1 else ''}"
              " could not be read; the backbone's data team has the details."
              if changes.files_not_read else ""), numeric=("accepted", "quarantined"))


def _figure_sections(changes: Changes) -> list[Section]:
    """Revised totals, first figures, statuses that changed, milestones reached or missed."""
    value, none, found = _value, NONE, []
    found.append(Section(
        "revised", "Revised totals",
        {"indicator": "Indicator", "place": "Place", "period": "Period", "from": "Was",
         "to": "Now", "change": "Change", "by": "Revised by", "reporting": "Partners reporting"},
        [{"indicator": r["short_name"], "place": r["place_name"], "period": _period(changes, r),
          "from": value(r, "value_from"), "to": value(r, "value_to"),
          "change": format_change(r["change"], r["decimals"], r["unit"]),
          "by": ", ".join(r["revised_by"]) or "-",
          "reporting": f"{format_count(r['partners_reporting'])} of "
                       f"{format_count(r['partners_expected'])}"
                       + (f" ({STATE_WORDS.get(r['state_to'], r['state_to'])})"
                          if r["state_to"] != "complete" else "")}
         for r in changes.revised_totals], none,
        note="A published total for an indicator, place and period whose value changed.",
        numeric=("from", "to", "change")))

    found.append(Section(
        "first", "First figures",
        {"indicator": "Indicator", "period": "Period", "value": "Whole area",
         "reporting": "Partners reporting"},
        [{"indicator": r["short_name"], "period": _period(changes, r), "value": value(r, "value"),
          "reporting": f"{format_count(r['partners_reporting'])} of "
                       f"{format_count(r['partners_expected'])} "
                       f"({STATE_WORDS.get(r['state'], r['state'])})"}
         for r in changes.first_figures], none, numeric=("value",)))

    found.append(Section(
        "statuses", "Statuses that changed",
        {"indicator": "Indicator", "place": "Place", "from": "Was", "to": "Now", "why": "Why"},
        [{"indicator": r["short_name"], "place": r["place_name"],
          "from": STATUS_WORDS.get(r["status_from"], r["status_from"]),
          "to": STATUS_WORDS.get(r["status_to"], r["status_to"]), "why": r["reason"] or ""}
         for r in changes.status_changes], none))

    found.append(Section(
        "milestones", "Milestones reached or missed",
        {"indicator": "Indicator", "place": "Place", "point": "Milestone", "target": "Target",
         "actual": "Actual", "result": "Result"},
        [{"indicator": r["short_name"], "place": r["place_name"],
          "point": f"{r['kind'].capitalize()} {_period(changes, r)}",
          "target": value(r, "target"), "actual": value(r, "actual"),
          "result": ({True: "Met", False: "Missed", None: "Reported (no better direction)"}
                     [r["met"]]) + (f" (was {r['before']})" if r["before"] != "not complete"
                                    else "")}
         for r in changes.milestones], none,
        note="A milestone or target whose period is now complete, judged by the indicator's "
             "direction (higher or lower is better).", numeric=("target", "actual")))

    return found


def _flag_sections(changes: Changes) -> list[Section]:
    value, none, found = _value, NONE, []
    for key, title, rows in (("raised", "Flags raised", changes.flags_raised),
                             ("resolved", "Flags resolved", changes.flags_resolved)):
        if changes.flag_rows:
            found.append(Section(
                f"flags-{key}", title,
                {"partner": "Partner", "indicator": "Indicator", "period": "Period",
                 "place": "Place", "breakdown": "Breakdown", "value": "Value",
                 "check": "Check"},
                [{"partner": r["partner_name"], "indicator": r["short_name"],
                  "period": r["period"] or "-", "place": r["place_name"] or "-",
                  "breakdown": r["breakdown"] or "-", "value": value(r, "value"),
                  "check": _rule(r["rule"], r["severity"])} for r in rows], none,
                numeric=("value",)))
        else:
            found.append(Section(
                f"flags-{key}", title,
                {"indicator": "Indicator", "check": "Check", "flags": "Values flagged"},
                [{"indicator": r["short_name"], "check": _rule(r["rule"], r["severity"]),
                  "flags": format_count(r["flags"])} for r in rows], none,
                numeric=("flags",)))

    return found


def _report_sections(changes: Changes) -> list[Section]:
    none, found = NONE, []
    found.append(Section(
        "late", "Reports newly late or missing",
        {"partner": "Partner", "period": "Period", "due": "Due", "now": "Now", "was": "Was"},
        [{"partner": r["partner_name"], "period": _period(changes, r), "due": format_date(r["due_date"]),
          "now": _report_words(r["state"], r["days_late"]),
          "was": _report_words(r["before"], None) if r["before"] != "none" else "-"}
         for r in changes.reports_late], none))
    found.append(Section(
        "received", "Missing reports now received",
        {"partner": "Partner", "period": "Period", "due": "Due", "arrived": "Arrived"},
        [{"partner": r["partner_name"], "period": _period(changes, r), "due": format_date(r["due_date"]),
          "arrived": format_datetime(r["first_arrival"])} for r in changes.reports_received],
        none))
    return found


def headline(changes: Changes) -> str:
    """One line: '2 new submissions, 3 totals revised, ...' (or that nothing changed)."""
    if changes.since is None:
        return ("The first snapshot kept: nothing to compare with yet. From the next run on, "
                "this lists what changed.")
    counts = [f"{n:,} {SINGULAR.get(name, name) if n == 1 else name}"
              for name, n in changes.counts().items() if n]
    if not counts:
        return f"Nothing new since {format_datetime(changes.since)}."
    return ", ".join(counts) + "."


def render_digest(changes: Changes) -> str:
    return TEMPLATES.get_template("digest.html").render(
        changes=changes, sections=sections(changes), headline=headline(changes),
        published=format_datetime(changes.published_at),
        since=format_datetime(changes.since) if changes.since else None,
        generated=format_datetime(datetime.now(UTC)))


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
