"""The changes between two records of published snapshots (``compute_changes``, a pure
function of the two), and ``scoped``: what one audience may see of them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pandas as pd

from murmuration.digest.history import FLAG_KEY, Snapshot
from murmuration.registry.models import WHOLE_AREA


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
