"""Feedback packs: after every run, each partner gets its own page (HTML) and CSVs: what was
accepted, what was quarantined and why (file, sheet, row, column, value, rule), the flags on
its values, and its scorecard over time.

Everything is read from the published serving file, so a pack always matches the dashboard.
Partner-provided text is escaped in HTML (Jinja2 autoescape) and neutralised in CSV
(murmuration.csvsafe).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from jinja2 import Environment, PackageLoader, select_autoescape

from murmuration.csvsafe import write_safe_csv
from murmuration.paths import ProjectPaths

TEMPLATES = Environment(loader=PackageLoader("murmuration", "templates"),
                        autoescape=select_autoescape(["html"]), trim_blocks=True,
                        lstrip_blocks=True)
ROWS_SHOWN = 200

QUERIES = {
    "accepted": (
        ["period", "indicator", "place", "breakdown", "value", "unit", "file", "sheet", "row",
         "column"],
        """select v.period, i.short_name, coalesce(p.place_name, v.place_code), v.disaggregation,
               v.value, i.unit_name, v.file_name, v.sheet, v.row_number, v.column_name
           from marts.indicator_values v
           join marts.indicators i using (indicator_code)
           left join marts.places p using (place_code)
           where v.partner_code = ? order by v.period desc, i.display_order, v.place_code,
               v.disaggregation"""),
    "quarantined": (
        ["file", "sheet", "row", "column", "period as written", "place as written",
         "indicator as written", "value as written", "reason"],
        """select file_name, sheet, row_number, column_name, period_text, place_text,
               indicator_text, value_text, quarantine_reason
           from marts.quarantined_values where partner_code = ?
           order by arrived_at desc, file_name, sheet, row_number, column_name"""),
    "flags": (
        ["rule", "severity", "period", "indicator", "place", "breakdown", "value",
         "expected from", "expected to", "statistic", "what it means", "file", "sheet", "row"],
        """select rule, severity, period, i.short_name, coalesce(p.place_name, f.place_code),
               disaggregation, round(value, 2), round(expected_low, 2), round(expected_high, 2),
               statistic, description, file_name, sheet, row_number
           from quality.value_flags f
           join marts.indicators i using (indicator_code)
           left join marts.places p using (place_code)
           where f.partner_code = ? and f.outcome = 'current'
           union all
           select rule, 'flag', period, a_code || ' / ' || b_code,
               coalesce(p.place_name, r.place_code), disaggregation, a_value, null, null,
               null, description, file_name, null, null
           from quality.relation_flags r
           left join marts.places p using (place_code)
           where r.partner_code = ?
           order by 3 desc, 1, 4"""),
    "scorecard": (
        ["period", "expected", "received", "first arrival", "due date", "on time",
         "days late", "file", "data rows", "rows accepted", "rows quarantined",
         "values reported", "zeros reported", "values missing", "outliers (moderate)",
         "outliers (extreme)", "consistency flags", "relation flags", "flags resolved",
         "completeness", "timeliness", "validity", "plausibility", "score"],
        """select report_period, expected, received, first_arrival, due_date, on_time,
               days_late, file_name, data_rows, rows_accepted, rows_quarantined,
               values_reported, zeros_reported, values_missing, outliers_moderate,
               outliers_extreme, consistency_flags, relation_flags, flags_resolved,
               completeness, timeliness, round(validity, 3), round(plausibility, 3), score
           from quality.submission_scorecard where partner_code = ?
           order by report_start desc"""),
}


@dataclass
class Pack:
    partner_code: str
    folder: Path
    rows: dict[str, int]


def feedback_dir(paths: ProjectPaths) -> Path:
    return paths.state_dir / "feedback"


def write_feedback_packs(paths: ProjectPaths) -> list[Pack]:
    """One folder per partner under <state>/feedback, each replaced whole."""
    root = feedback_dir(paths)
    root.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(paths.serving), read_only=True)
    try:
        initiative = con.execute("select initiative_name from marts.initiative").fetchall()[0][0]
        published = con.execute("select published_at from main.published").fetchall()[0][0]
        partners = con.execute(
            "select partner_code, partner_name from marts.partners order by partner_code"
        ).fetchall()
        packs = [_write_pack(con, root, code, name, initiative, published)
                 for code, name in partners]
    finally:
        con.close()
    return packs


def _write_pack(con, root: Path, code: str, name: str, initiative: str,
                published: str) -> Pack:
    building = root / f".building-{code}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    tables: dict[str, list[tuple]] = {}
    counts: dict[str, int] = {}
    for kind, (header, sql) in QUERIES.items():
        parameters = [code] * sql.count("?")
        rows = con.execute(sql, parameters).fetchall()
        tables[kind] = rows
        counts[kind] = write_safe_csv(building / f"{kind}.csv", header, rows)
    overall = con.execute("select * from quality.partner_scorecard where partner_code = ?",
                          [code]).df().to_dict("records")
    submissions = con.execute(
        "select file_name, arrived_at, landing_status, message, data_rows, rows_accepted, "
        "rows_quarantined, superseded_by from marts.submissions where partner_code = ? "
        "order by arrived_at desc", [code]).fetchall()
    reasons = con.execute(
        "select quarantine_reason, count(*) from marts.quarantined_values where partner_code = ? "
        "group by 1 order by 2 desc", [code]).fetchall()
    weights = con.execute(
        "select weight_completeness, weight_timeliness, weight_validity, weight_plausibility, "
        "completeness_target, timeliness_target from marts.initiative").fetchall()
    html = TEMPLATES.get_template("feedback.html").render(
        initiative=initiative, partner_code=code, partner_name=name, published=published,
        generated=datetime.now(UTC).isoformat(timespec="seconds"),
        overall=overall[0] if overall else None, scorecard=tables["scorecard"],
        score_header=QUERIES["scorecard"][0], quarantined=tables["quarantined"][:ROWS_SHOWN],
        quarantined_header=QUERIES["quarantined"][0], flags=tables["flags"][:ROWS_SHOWN],
        flags_header=QUERIES["flags"][0], counts=counts, submissions=submissions,
        reasons=reasons, weights=weights[0] if weights else None, rows_shown=ROWS_SHOWN)
    (building / "index.html").write_text(html, encoding="utf-8")
    target = root / code
    retired = root / f".retired-{code}"
    shutil.rmtree(retired, ignore_errors=True)
    if target.exists():
        os.replace(target, retired)
    os.replace(building, target)
    shutil.rmtree(retired, ignore_errors=True)
    return Pack(code, target, counts)
