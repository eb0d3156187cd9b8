"""Feedback packs: after every run, each partner gets its own page (HTML) and CSVs: what was
accepted, what was quarantined and why (file, sheet, row, column, value, rule), the flags on
its values, and its scorecard over time.

Everything is read from the published serving file, so a pack always matches the dashboard.
Partner-provided text is escaped in HTML (Jinja2 autoescape, and control characters such as
a NUL byte shown as ``\x00``) and neutralised in CSV (murmuration.csvsafe). The page quotes at
most the initiative's ``limits.cell_chars_in_messages`` characters of a cell; the CSVs keep it
whole.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from murmuration.csvsafe import (
    add_byte_order_mark,
    escape_controls,
    escaped_controls_sql,
    neutralised_formula_sql,
    write_safe_csv,
)
from murmuration.files import write_text_atomic
from murmuration.formatting import format_count, format_date, format_datetime, format_percent
from murmuration.intake.reasons import shown_cell
from murmuration.paths import ProjectPaths
from murmuration.registry.models import Limits


def _visible(value):
    """Every value a page prints, with its control characters escaped (a NUL byte is not
    valid in HTML)."""
    if isinstance(value, Markup):
        return Markup(escape_controls(str(value)))  # the escapes hold no HTML
    return escape_controls(value) if isinstance(value, str) else value


TEMPLATES = Environment(loader=PackageLoader("murmuration", "templates"),
                        autoescape=select_autoescape(["html"]), trim_blocks=True,
                        lstrip_blocks=True, finalize=_visible)


def format_number(value) -> str:
    """A number as people write it: 12 (not 12.0), 1,234, 0.25 (at most two decimals)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    number = float(value)
    if number == int(number):
        return f"{int(number):,}"
    return f"{number:,.2f}".rstrip("0").rstrip(".")


def breakable(text) -> Markup:
    """Escaped text that may wrap after '_', '/' and '.' (file names are long single words)."""
    escaped = str(escape("" if text is None else text))
    for mark in ("_", "/", "."):
        escaped = escaped.replace(mark, mark + "<wbr>")
    return Markup(escaped)


# How the page writes numbers and dates (the CSVs keep them as data).
TEMPLATES.filters.update(breakable=breakable, count=format_count, number=format_number,
                         date=format_date,
                         datetime=format_datetime,
                         percent=lambda share, decimals=0: format_percent(share, decimals))
STATUS_NAMES = {"landed": "read", "unreadable": "could not be read",
                "ignored": "set aside (not a submission)"}
CHECK_NAMES = {"outlier": "outlier", "relation_ratio_range": "ratio out of range",
               "relation_at_least": "one value smaller than the other it includes"}
ROWS_SHOWN = 200
DEFAULT_CELL_CHARS = Limits().cell_chars_in_messages
FINGERPRINT_FILE = ".fingerprint"
# What a pack shows, per partner: its fingerprint changes when any of these rows does.
PACK_SOURCES = ["marts.indicator_values", "marts.quarantined_values",
                "marts.deduplicated_values", "quality.value_flags",
                "quality.relation_flags", "quality.submission_scorecard",
                "quality.partner_scorecard", "marts.submissions"]
# The largest CSV (every accepted value) is written by DuckDB; its text columns neutralised.
ACCEPTED_TEXT = {"period", "indicator", "place", "breakdown", "unit", "file", "sheet", "column"}

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
    "deduplicated": (
        ["site", "period", "indicator", "place", "value not counted", "file", "sheet", "row",
         "column", "value counted", "counted from file", "counted from row"],
        """select d.site, d.period, i.short_name, coalesce(p.place_name, d.place_code),
               d.value, d.file_name, d.sheet, d.row_number, d.column_name, d.counted_value,
               d.counted_file_name, d.counted_row_number
           from marts.deduplicated_values d
           join marts.indicators i using (indicator_code)
           left join marts.places p using (place_code)
           where d.partner_code = ?
           order by d.period desc, d.file_name, d.row_number, d.column_name"""),
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


def write_feedback_packs(paths: ProjectPaths) -> list[Pack]:
    """One folder per partner under <state>/feedback, each replaced whole; a partner whose
    published rows (and the initiative's settings) did not change since its pack was written
    keeps its pack."""
    root = paths.feedback_dir
    root.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(paths.serving), read_only=True)
    try:
        initiative = con.execute("select initiative_name from marts.initiative").fetchall()[0][0]
        published = con.execute("select published_at from main.published").fetchall()[0][0]
        partners = con.execute(
            "select partner_code, partner_name from marts.partners order by partner_code"
        ).fetchall()
        prints = _fingerprints(con)
        stored = {code: _stored_fingerprints(root / code) for code, _ in partners}
        rebuilt = [code for code, _ in partners if stored[code][0] != prints.get(code, "")]
        # What a partner's rows were built from changed (a registry or codes change rebuilds
        # partners whose rows mostly stay as they were): for those partners only, the rows
        # themselves are compared with the ones their pack was written from.
        rows = _row_fingerprints(con, rebuilt) if rebuilt else {}
        todo = []
        for code, name in partners:
            if code not in rows:
                continue
            if stored[code][1] == rows[code]:  # the same pack: only what it was built from
                _write_marker(root / code, prints.get(code, ""), rows[code])
            else:
                todo.append((code, name, f"{prints.get(code, '')}\n{rows[code]}"))

        def write(item: tuple[str, str, str]) -> Pack | tuple[str, Exception]:
            cursor = con.cursor()  # one per thread: DuckDB runs their queries side by side
            try:
                return _write_pack(cursor, root, item[0], item[1], initiative, published,
                                   item[2])
            except Exception as error:  # one partner's rows never stop another's pack
                shutil.rmtree(root / f".building-{item[0]}", ignore_errors=True)
                return item[0], error
            finally:
                cursor.close()

        # Half a pack's time is DuckDB's (outside the GIL): a few at a time.
        with ThreadPoolExecutor(max_workers=min(4, (os.cpu_count() or 1) + 1)) as pool:
            done = list(pool.map(write, todo))
    finally:
        con.close()
    packs = [pack for pack in done if isinstance(pack, Pack)]
    failed = [pack for pack in done if not isinstance(pack, Pack)]
    if failed:
        raise PacksNotWritten(failed, packs)
    return packs


class PacksNotWritten(Exception):
    """Some partners' packs could not be written; every other partner's pack was (each failed
    partner keeps its previous pack, if any)."""

    def __init__(self, failed: list[tuple[str, Exception]], written: list[Pack]):
        self.failed, self.written = failed, written
        names = "; ".join(f"{code}: {type(error).__name__}: {error}" for code, error in failed)
        super().__init__(
            f"the feedback pack{'s' if len(failed) != 1 else ''} of {len(failed)} partner"
            f"{'s' if len(failed) != 1 else ''} could not be written ({names}); "
            f"the other {len(written)} written or kept as they were")


def _fingerprints(con) -> dict[str, str]:
    """Per partner, a hash of every row its pack reads (order does not matter) and of the
    initiative's settings and the pack template."""
    settings = con.execute("select hash(i) from marts.initiative i").fetchall()[0][0]
    template = _template_hash()
    parts: dict[str, list[str]] = {}
    for source in PACK_SOURCES:
        columns = _columns(con, source)
        # Partner-keyed incremental models carry the hash of their partner's inputs (its
        # submissions and the rules they were built by): that says whether the rows changed,
        # without hashing millions of them.
        digest_sql = ("min(partner_inputs)::varchar || ':' || max(partner_inputs)::varchar || "
                      "':' || count(*)" if "partner_inputs" in columns
                      else "bit_xor(hash(t::varchar))")
        for code, digest in con.execute(
                f"select partner_code, {digest_sql} from {source} t group by 1").fetchall():
            parts.setdefault(code, []).append(f"{source}:{digest}")
    return {code: hash_text(";".join(sorted(found)) + f";{settings};{template}")
            for code, found in parts.items()}


def _row_fingerprints(con, codes: list[str]) -> dict[str, str]:
    """Per partner of ``codes``, a hash of the rows its pack shows: every row it reads (but
    what they were built from), its name, the indicators' and places' names it quotes, the
    initiative's settings and the pack template. Rows are hashed as they are (a hash of each
    row as text took 3.7 s for the 4 M values at M, this 0.1 s)."""
    shared = con.execute(
        "select (select bit_xor(hash(i::varchar)) from marts.indicators i), "
        "(select bit_xor(hash(p::varchar)) from marts.places p), "
        "(select hash(i) from marts.initiative i)").fetchall()[0]
    template = _template_hash()
    parts: dict[str, list[str]] = {}
    for source in [*PACK_SOURCES, "marts.partners"]:
        built_from = sorted(_columns(con, source) & {"partner_key", "partner_inputs"})
        rows = f"select * exclude ({', '.join(built_from)}) from {source}" if built_from \
            else f"select * from {source}"
        for code, digest in con.execute(
                f"select partner_code, bit_xor(hash(t))::varchar || ':' || count(*) "
                f"from ({rows}) t where partner_code in (select unnest(?::varchar[])) "
                f"group by 1", [codes]).fetchall():
            parts.setdefault(code, []).append(f"{source}:{digest}")
    return {code: hash_text(";".join(sorted(parts.get(code, []))) + f";{shared};{template}")
            for code in codes}


def _columns(con, source: str) -> set[str]:
    schema, table = source.split(".")
    return {row[0] for row in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and "
        "table_name = ?", [schema, table]).fetchall()}


def _template_hash() -> str:
    return hash_text((Path(__file__).parent / "templates" / "feedback.html").read_text())


def hash_text(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _stored_fingerprints(folder: Path) -> tuple[str | None, str | None]:
    """What a pack was written from: its partner's inputs (_fingerprints) and rows
    (_row_fingerprints); a pack an older version wrote has no second line."""
    marker = folder / FINGERPRINT_FILE
    lines = marker.read_text().split("\n") if marker.exists() else []
    return (lines[0].strip() if lines else None,
            lines[1].strip() if len(lines) > 1 and lines[1].strip() else None)


def _write_marker(folder: Path, inputs: str, rows: str) -> None:
    write_text_atomic(folder / FINGERPRINT_FILE, f"{inputs}\n{rows}")


def _copy_csv(con, path: Path, header: list[str], sql: str, parameters: list) -> int:
    """A safe CSV written by DuckDB (the accepted values can be millions of rows): text columns
    escaped in an inner select, so the outer one tests each escaped cell once."""
    numbered = ", ".join(f"c{n}" for n in range(len(header)))
    escaped = ", ".join(
        f"{escaped_controls_sql(f'c{n}::varchar')} as c{n}" if name in ACCEPTED_TEXT else f"c{n}"
        for n, name in enumerate(header))
    columns = ", ".join(
        f"{neutralised_formula_sql(f'c{n}') if name in ACCEPTED_TEXT else f'c{n}'} "
        f'as "{name}"' for n, name in enumerate(header))
    [(written,)] = con.execute(
        f"copy (select {columns} from (select {escaped} from ({sql}) as source({numbered}))) "
        f"to '{str(path).replace(chr(39), chr(39) * 2)}' (header, delimiter ',')",
        parameters).fetchall()
    add_byte_order_mark(path)
    return written


def _where(file_name, sheet=None, row=None, column=None) -> str:
    """'family_hub_2025-03.xlsx, sheet Return, row 9, column Total' (what is known of it)."""
    parts = [str(file_name)] if file_name else []
    if sheet:
        parts.append(f"sheet {sheet}")
    if row is not None:
        parts.append(f"row {format_count(row)}")
    if column:
        parts.append(f"column {column}")
    return ", ".join(parts)


def _text(value) -> str:
    return "" if value is None else str(value)


def _quarantined_view(row: tuple, cell_chars: int = DEFAULT_CELL_CHARS) -> dict:
    """A quarantined row for the page (the CSV keeps every field in its own column, whole);
    the partner's cells quoted as reasons quote them (at most ``cell_chars`` characters)."""
    file_name, sheet, row_number, column, period, place, indicator, value, reason = row
    return {"where": _where(file_name, sheet, row_number, _shown(column, cell_chars)),
            "period": _shown(period, cell_chars), "place": _shown(place, cell_chars),
            "indicator": _shown(indicator, cell_chars), "value": _shown(value, cell_chars),
            "reason": _text(reason)}


def _shown(value, cell_chars: int = DEFAULT_CELL_CHARS):
    return shown_cell(value, cell_chars) if isinstance(value, str) else value


def _cell_chars(con) -> int:
    """The initiative's limits.cell_chars_in_messages (its default in a serving file built
    before the setting existed)."""
    found = con.execute("select count(*) from information_schema.columns where table_schema = "
                        "'marts' and table_name = 'initiative' and column_name = "
                        "'cell_chars_in_messages'").fetchall()[0][0]
    if not found:
        return DEFAULT_CELL_CHARS
    value = con.execute("select cell_chars_in_messages from marts.initiative").fetchall()
    return int(value[0][0]) if value and value[0][0] else DEFAULT_CELL_CHARS


def _deduplicated_view(row: tuple) -> dict:
    """A value not counted (another row of its site counts), for the page."""
    (site, period, indicator, place, value, file_name, sheet, row_number, column, counted,
     counted_file, counted_row) = row
    return {"site": _text(site), "period": _text(period), "indicator": _text(indicator),
            "place": _text(place), "value": format_number(value),
            "where": _where(file_name, sheet, row_number, column),
            "counted": format_number(counted),
            "counted_where": _where(counted_file, None, counted_row)}


def _flag_view(row: tuple) -> dict:
    """A flag for the page: the expected range as one text, the place it came from as one."""
    (rule, severity, period, indicator, place, breakdown, value, low, high, _statistic,
     description, file_name, sheet, row_number) = row
    expected = (f"{format_number(low)} to {format_number(high)}"
                if low is not None and high is not None else "")
    check = CHECK_NAMES.get(rule, _text(rule).replace("_", " "))
    if severity and severity != "flag":
        check = f"{check} ({severity})"
    return {"period": _text(period), "indicator": _text(indicator), "place": _text(place),
            "breakdown": _text(breakdown).replace(";", ", ").replace("=", ": ").replace("_", " "),
            "value": format_number(value), "expected": expected,
            "check": check, "meaning": _text(description),
            "where": _where(file_name, sheet, row_number)}


def _write_pack(con, root: Path, code: str, name: str, initiative: str,
                published: str, fingerprint: str) -> Pack:
    building = root / f".building-{code}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    tables: dict[str, list[tuple]] = {}
    counts: dict[str, int] = {}
    for kind, (header, sql) in QUERIES.items():
        parameters = [code] * sql.count("?")
        if kind == "accepted":  # not shown on the page: only the CSV, by DuckDB
            counts[kind] = _copy_csv(con, building / f"{kind}.csv", header, sql, parameters)
            continue
        rows = con.execute(sql, parameters).fetchall()
        tables[kind] = rows
        counts[kind] = write_safe_csv(building / f"{kind}.csv", header, rows)
    # Fetched as rows, not through pandas: counts stay integers (pandas made 9 into 9.0).
    cursor = con.execute("select * from quality.partner_scorecard where partner_code = ?", [code])
    names = [column[0] for column in cursor.description]
    overall = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    submissions = con.execute(
        "select file_name, arrived_at, landing_status, coalesce(message, "
        "'held for review, not published yet: ' || held_reason), data_rows, rows_accepted, "
        "rows_quarantined, superseded_by from marts.submissions where partner_code = ? "
        "order by arrived_at desc", [code]).fetchall()
    reasons = con.execute(
        "select quarantine_reason, count(*) from marts.quarantined_values where partner_code = ? "
        "group by 1 order by 2 desc", [code]).fetchall()
    cell_chars = _cell_chars(con)
    weights = con.execute(
        "select weight_completeness, weight_timeliness, weight_validity, weight_plausibility, "
        "completeness_target, timeliness_target from marts.initiative").fetchall()
    html = TEMPLATES.get_template("feedback.html").render(
        initiative=initiative, partner_code=code, partner_name=name, published=published,
        generated=datetime.now(UTC).isoformat(timespec="seconds"),
        overall=overall[0] if overall else None, scorecard=tables["scorecard"],
        quarantined=[_quarantined_view(row, cell_chars) for row in tables["quarantined"][:ROWS_SHOWN]],
        flags=[_flag_view(row) for row in tables["flags"][:ROWS_SHOWN]], counts=counts,
        deduplicated=[_deduplicated_view(row) for row in tables["deduplicated"][:ROWS_SHOWN]],
        submissions=submissions, status_names=STATUS_NAMES, reasons=reasons,
        weights=weights[0] if weights else None, rows_shown=ROWS_SHOWN)
    (building / "index.html").write_text(html, encoding="utf-8")
    (building / FINGERPRINT_FILE).write_text(fingerprint)
    target = root / code
    retired = root / f".retired-{code}"
    shutil.rmtree(retired, ignore_errors=True)
    if target.exists():
        os.replace(target, retired)
    os.replace(building, target)
    shutil.rmtree(retired, ignore_errors=True)
    return Pack(code, target, counts)
