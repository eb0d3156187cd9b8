"""Apply a partner's mapping contract to its landed cells: one record per reported value.

The mapping decides, per file, where the header is and which column holds what. From that, this
module writes one DuckDB query per submission (no Python loop over rows) that turns raw rows into
*records*: the partner's own text for partner, period, place, indicator, disaggregations and value,
with the period parsed by the mapping's formats. Codes, units and validity are decided later,
in dbt, from the registry.

Row accounting: every row below the header yields at least one record. A row that carries no
value (blank, a summary row, a template row left empty) yields one record whose ``problem`` says
why, so ``rows read = rows accepted + rows quarantined`` always holds downstream.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from murmuration.intake.header import Header, find_header
from murmuration.intake.landing import ROWS_FILE, Submission
from murmuration.intake.metadata import MetadataError, id_names
from murmuration.intake.periods import period_start_sql
from murmuration.paths import ProjectPaths
from murmuration.registry import Registry
from murmuration.registry.loader import normalise
from murmuration.registry.mapping import Layout, Mapping, alternatives

RECORDS_FILE = "records.parquet"
EXTRACT_FILE = "extract.json"
HEADER_SEARCH_ROWS = 50
EXTRACTION_VERSION = 6  # bump when the record layout changes, so every submission is redone

RECORD_SCHEMA = pa.schema([
    ("submission_id", pa.string()),
    ("mapping_name", pa.string()),
    ("sheet", pa.string()),
    ("row_number", pa.int64()),
    ("column_name", pa.string()),
    ("partner_source", pa.string()),
    ("partner_text", pa.string()),
    ("period_text", pa.string()),
    ("period_start", pa.date32()),
    ("place_text", pa.string()),
    ("indicator_text", pa.string()),
    ("value_text", pa.string()),
    ("combo_text", pa.string()),
    ("disaggregation_text", pa.list_(pa.struct([("dimension", pa.string()),
                                                 ("text", pa.string())]))),
    ("problem", pa.string()),
    # Why a row yields no value: blank, summary (a total), no_values (a template row left
    # empty), excluded (require_rows), unmapped (the mapping could not be applied).
    ("problem_kind", pa.string()),
])


@dataclass
class Extraction:
    """What applying the mapping to one submission found (stored as extract.json)."""

    submission_id: str
    mapping_name: str | None
    fingerprint: str
    sheet: str | None = None
    header_row: int | None = None
    hxl_row: int | None = None
    structure_rows: int = 0  # titles, the header and an HXL row above the data
    other_sheet_rows: int = 0  # rows of sheets the mapping does not read (kept, not data)
    data_rows: int = 0
    records: int = 0
    problem: str | None = None
    unused_columns: list[str] = field(default_factory=list)
    missing_value_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def mapping_fingerprint(mapping: Mapping | None) -> str:
    text = json.dumps([EXTRACTION_VERSION, mapping.model_dump(mode="json") if mapping else None],
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def needs_extraction(paths: ProjectPaths, submission: Submission, mapping: Mapping | None) -> bool:
    state = paths.submission_dir(submission.submission_id) / EXTRACT_FILE
    if not state.exists():
        return True
    return json.loads(state.read_text())["fingerprint"] != mapping_fingerprint(mapping)


def extract_submission(paths: ProjectPaths, registry: Registry,
                       submission: Submission) -> Extraction:
    """Write records.parquet and extract.json for one landed submission."""
    folder = paths.submission_dir(submission.submission_id)
    mapping = registry.mapping_for(submission.folder, submission.file_name)
    extraction = Extraction(submission.submission_id, mapping.name if mapping else None,
                            mapping_fingerprint(mapping))
    con = duckdb.connect()
    try:
        if submission.status != "landed":
            table = RECORD_SCHEMA.empty_table()  # ignored or unreadable: no rows to account for
        else:
            con.execute(f"create temp table raw as select * from read_parquet({_text(str(folder / ROWS_FILE))})")
            if mapping is None:
                extraction.problem = (
                    f"no mapping covers '{submission.file_name}' in inbox folder "
                    f"'{submission.folder}'; add one under mappings/ (see README, Onboard a partner)")
                table = _problem_records(con, submission, None, None, 0, extraction.problem)
                extraction.data_rows = table.num_rows
            else:
                table = _apply_mapping(con, paths, submission, mapping, extraction)
    finally:
        con.close()
    extraction.records = table.num_rows
    pq.write_table(table.cast(RECORD_SCHEMA), folder / RECORDS_FILE)
    temporary = folder / (EXTRACT_FILE + ".tmp")
    temporary.write_text(json.dumps(asdict(extraction), indent=2), encoding="utf-8")
    os.replace(temporary, folder / EXTRACT_FILE)
    return extraction


HEADER_SEARCH_SQL = (
    "select sheet, row_number, cells from raw where row_number <= ? "
    "order by min(rowid) over (partition by sheet), row_number")


def _rows_by_sheet(con, limit: int) -> dict[str, list[tuple[int, list]]]:
    rows: dict[str, list[tuple[int, list]]] = {}
    for sheet, row_number, cells in con.execute(HEADER_SEARCH_SQL, [limit]).fetchall():
        rows.setdefault(sheet, []).append((row_number, cells))
    return rows


def _apply_mapping(con, paths: ProjectPaths, submission: Submission, mapping: Mapping,
                   extraction: Extraction) -> pa.Table:
    limit = HEADER_SEARCH_ROWS + 1 if mapping.reader.header_row == "auto" else \
        int(mapping.reader.header_row) + 1
    header, problem = find_header(_rows_by_sheet(con, limit), mapping)
    if header is None:
        extraction.problem = problem
        table = _problem_records(con, submission, mapping, None, 0, problem)
        extraction.data_rows = table.num_rows
        return table
    extraction.sheet, extraction.header_row = header.sheet, header.row_number
    extraction.hxl_row = header.data_after if header.data_after != header.row_number else None
    extraction.data_rows, extraction.structure_rows, extraction.other_sheet_rows = con.execute(
        "select count(*) filter (where sheet = ? and row_number > ?), "
        "count(*) filter (where sheet = ? and row_number <= ?), "
        "count(*) filter (where sheet <> ?) from raw",
        [header.sheet, header.data_after, header.sheet, header.data_after, header.sheet]
    ).fetchall()[0]

    try:
        names = id_names(paths.project_dir, mapping, _embedded_names(submission))
    except MetadataError as error:
        extraction.problem = str(error)
        table = _problem_records(con, submission, mapping, None, 0, str(error))
        extraction.data_rows, extraction.structure_rows, extraction.other_sheet_rows = (
            table.num_rows, 0, 0)
        return table
    con.execute("create temp table id_name (role varchar, id varchar, name varchar)")
    if names:
        con.executemany("insert into id_name values (?, ?, ?)", names)
    resolved_roles = set(mapping.resolve_ids)
    used: set[int] = set()

    def cell(role: str, reference) -> str:
        position = header.position(reference) if reference else None
        if position is None:
            return "null::varchar"
        warning = header.ambiguity(reference)
        if warning and warning not in extraction.warnings:
            extraction.warnings.append(warning)
        used.add(position)
        raw = f"list_extract(cells, {position})"
        if role in resolved_roles:
            return (f"coalesce((select name from id_name where role = {_text(role)} and "
                    f"id = {raw}), {raw})")
        return raw

    columns = mapping.columns
    fixed = {key: _text(value) for key, value in mapping.fixed.items()}
    period_expr = fixed.get("period", cell("period", columns.period))
    place_expr = fixed.get("place", cell("place", columns.place))
    indicator_expr = fixed.get("indicator", cell("indicator", columns.indicator))
    partner_expr = cell("partner", mapping.partner.column)
    combo_expr = cell("combo", columns.combo)
    pairs = ", ".join(f"{{'dimension': {_text(d)}, 'text': {cell(d, ref)}}}"
                      for d, ref in columns.disaggregations.items())
    disaggregation_list = f"[{pairs}]::struct(dimension varchar, text varchar)[]"
    row_problem, row_kind = _row_rules(mapping, header)

    if mapping.layout is Layout.LONG:
        value_columns = [(header.position(columns.value), None, {})]
    else:
        value_columns = []
        for value in mapping.values:
            position = header.position(value.column)
            warning = header.ambiguity(value.column)
            if warning and warning not in extraction.warnings:
                extraction.warnings.append(warning)
            if position is None:
                extraction.missing_value_columns.append(" or ".join(alternatives(value.column)))
            else:
                value_columns.append((position, value.indicator, value.disaggregation))
    used |= {position for position, _, _ in value_columns}
    extraction.unused_columns = [
        header.label(p) for p in range(1, max(len(header.texts), len(header.tags)) + 1)
        if p not in used and (p <= len(header.texts) and header.texts[p - 1].strip()
                              or p <= len(header.tags) and header.tags[p - 1].strip())]

    value_rows = []
    for order, (position, indicator, codes) in enumerate(value_columns):
        column_pairs = ", ".join(f"{{'dimension': {_text(d)}, 'text': {_text(c)}}}"
                                 for d, c in codes.items())
        value_rows.append(
            f"select {order} as value_order, {_text(header.label(position))} as column_name, "
            f"{position} as cell, "
            f"{_text(indicator) if indicator else 'null::varchar'} as indicator_code, "
            f"[{column_pairs}]::struct(dimension varchar, text varchar)[] as column_disaggregation")
    con.execute("create temp table value_column as " + " union all ".join(value_rows))
    # In a wide table an empty cell means "not reported"; in a long one the row still counts.
    value_filter = ("value_text is not null and trim(value_text) <> ''"
                    if mapping.layout is Layout.WIDE else "true")
    period_start = period_start_sql(f"trim({period_expr})", mapping.period_formats,
                                    mapping.period_default_year)
    partner_source = _text("column" if mapping.partner.column else "folder")
    query = f"""
        with data_row as (
            select sheet, row_number, cells,
                len(list_filter(cells, lambda c: c is not null and trim(c) <> '')) = 0 as is_blank,
                {row_problem} as row_problem,
                {row_kind} as row_kind
            from raw where sheet = {_text(header.sheet)} and row_number > {header.data_after}
        ),
        candidate as (
            select r.*, v.value_order, v.column_name, v.indicator_code, v.column_disaggregation,
                list_extract(r.cells, v.cell) as value_text
            from data_row r cross join value_column v
            where not r.is_blank and r.row_problem is null
        ),
        reported as (
            select * from candidate where {value_filter}
        ),
        silent_row as (
            select * from data_row r
            where not exists (select 1 from reported v where v.sheet = r.sheet
                                                         and v.row_number = r.row_number)
        )
        select {_text(submission.submission_id)} as submission_id,
            {_text(mapping.name)} as mapping_name, sheet, row_number, column_name,
            {partner_source} as partner_source,
            {partner_expr} as partner_text,
            {period_expr} as period_text,
            {period_start} as period_start,
            {place_expr} as place_text,
            coalesce(indicator_code, {indicator_expr}) as indicator_text,
            value_text,
            {combo_expr} as combo_text,
            list_concat(column_disaggregation, {disaggregation_list}) as disaggregation_text,
            null::varchar as problem,
            null::varchar as problem_kind
        from reported
        union all
        select {_text(submission.submission_id)}, {_text(mapping.name)}, sheet, row_number, null,
            {partner_source}, {partner_expr}, {period_expr}, {period_start}, {place_expr}, null, null,
            null,
            []::struct(dimension varchar, text varchar)[],
            case when is_blank then 'blank row'
                 when row_problem is not null then row_problem
                 else 'no values reported in this row' end,
            case when is_blank then 'blank'
                 when row_problem is not null then row_kind
                 else 'no_values' end
        from silent_row
        order by sheet, row_number, column_name
    """
    return con.sql(query).to_arrow_table()


def _embedded_names(submission: Submission) -> dict[str, str]:
    details = json.loads(submission.reader_details or "{}")
    return details.get("item_names") or {}


def _row_rules(mapping: Mapping, header: Header) -> tuple[str, str]:
    """SQL naming why a row is not data (a summary row, or one outside require_rows) or null,
    and SQL for the kind of that problem (summary or excluded)."""
    roles = {"partner": mapping.partner.column, **mapping.columns.roles()}
    reasons, kinds = [], []
    for rule, required in [(r, False) for r in mapping.summary_rows] + \
                          [(r, True) for r in mapping.require_rows]:
        position = header.position(roles.get(rule.column) or rule.column)
        if position is None:
            continue
        cell = f"list_extract(cells, {position})"
        values = ", ".join(_text(normalise(v)) for v in rule.values)
        label = _text(header.label(position))
        if required:
            reason = _text(rule.reason or f"only {', '.join(rule.values)} accepted")
            condition = f"{normalised_sql(cell)} not in ({values})"
            reasons.append(f"when {condition} then {label} || ' is ''' || "
                           f"coalesce({cell}, '') || ''': ' || {reason}")
            kinds.append(f"when {condition} then 'excluded'")
        else:
            reason = _text(rule.reason or "summary row (a total), not data")
            condition = f"{normalised_sql(cell)} in ({values})"
            reasons.append(f"when {condition} then {reason} || ' (' || {label} || ' says ''' "
                           f"|| {cell} || ''')'")
            kinds.append(f"when {condition} then 'summary'")
    if not reasons:
        return "null::varchar", "null::varchar"
    return f"case {' '.join(reasons)} end", f"case {' '.join(kinds)} end"


def _problem_records(con, submission: Submission, mapping: Mapping | None, header: Header | None,
                     after_row: int, problem: str) -> pa.Table:
    """One record per row (blank ones too) when the mapping cannot be applied at all."""
    sheet_filter = f"sheet = {_text(header.sheet)} and " if header else ""
    partner_source = _text("column" if mapping and mapping.partner.column else "folder")
    return con.sql(f"""
        select {_text(submission.submission_id)} as submission_id,
            {_text(mapping.name) if mapping else 'null::varchar'} as mapping_name,
            sheet, row_number, null::varchar as column_name,
            {partner_source} as partner_source,
            null::varchar as partner_text, null::varchar as period_text, null::date as period_start,
            null::varchar as place_text, null::varchar as indicator_text,
            null::varchar as value_text, null::varchar as combo_text,
            []::struct(dimension varchar, text varchar)[] as disaggregation_text,
            {_text(problem)} as problem,
            'unmapped' as problem_kind
        from raw
        where {sheet_filter} row_number > {after_row}
        order by sheet, row_number
    """).to_arrow_table()


def normalised_sql(expression: str) -> str:
    """SQL twin of registry.loader.normalise (case, accents and spacing do not matter)."""
    return (f"lower(trim(regexp_replace(strip_accents(coalesce({expression}, '')), "
            f"'\\s+', ' ', 'g')))")


def _text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def extract_pending(paths: ProjectPaths, registry: Registry,
                    submissions: list[Submission]) -> list[Extraction]:
    """Extract every submission that is new or whose mapping changed since it was extracted."""
    done = []
    for submission in submissions:
        mapping = registry.mapping_for(submission.folder, submission.file_name)
        if needs_extraction(paths, submission, mapping):
            done.append(extract_submission(paths, registry, submission))
    return done


def load_extraction(paths: ProjectPaths, submission_id: str) -> Extraction | None:
    state = paths.submission_dir(submission_id) / EXTRACT_FILE
    if not state.exists():
        return None
    return Extraction(**json.loads(state.read_text(encoding="utf-8")))


def records_files(paths: ProjectPaths) -> list[Path]:
    return sorted(paths.landed_dir.glob(f"*/{RECORDS_FILE}"))
