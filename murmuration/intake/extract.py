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

from murmuration.intake.landing import ROWS_FILE, Submission
from murmuration.paths import ProjectPaths
from murmuration.registry import Registry
from murmuration.registry.loader import normalise
from murmuration.registry.mapping import Layout, Mapping

RECORDS_FILE = "records.parquet"
EXTRACT_FILE = "extract.json"
HEADER_SEARCH_ROWS = 50
EXTRACTION_VERSION = 1  # bump when the record layout changes, so every submission is redone

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
])


@dataclass
class Extraction:
    """What applying the mapping to one submission found (stored as extract.json)."""

    submission_id: str
    mapping_name: str | None
    fingerprint: str
    sheet: str | None = None
    header_row: int | None = None
    data_rows: int = 0
    records: int = 0
    problem: str | None = None
    unused_columns: list[str] = field(default_factory=list)
    missing_value_columns: list[str] = field(default_factory=list)


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
                table = _apply_mapping(con, submission, mapping, extraction)
    finally:
        con.close()
    extraction.records = table.num_rows
    pq.write_table(table.cast(RECORD_SCHEMA), folder / RECORDS_FILE)
    temporary = folder / (EXTRACT_FILE + ".tmp")
    temporary.write_text(json.dumps(asdict(extraction), indent=2), encoding="utf-8")
    os.replace(temporary, folder / EXTRACT_FILE)
    return extraction


@dataclass
class Header:
    sheet: str
    row_number: int
    positions: dict[str, int]  # normalised header text -> 1-based position in cells
    texts: list[str]


def _find_header(con, mapping: Mapping, required: list[str]) -> tuple[Header | None, str | None]:
    """The mapped sheet's header row: the configured row, or the first row naming every column."""
    sheets = [row[0] for row in con.execute(
        "select sheet from raw group by sheet order by min(rowid)").fetchall()]
    if mapping.reader.sheet is not None:
        if mapping.reader.sheet not in sheets:
            return None, (f"sheet '{mapping.reader.sheet}' was not found; the workbook has "
                          f"{', '.join(repr(s) for s in sheets) or 'no sheets'}")
        sheets = [mapping.reader.sheet]
    wanted = [normalise(name) for name in required]
    for sheet in sheets:
        if mapping.reader.header_row == "auto":
            candidates = con.execute(
                "select row_number, cells from raw where sheet = ? and row_number <= ? "
                "order by row_number", [sheet, HEADER_SEARCH_ROWS]).fetchall()
        else:
            candidates = con.execute(
                "select row_number, cells from raw where sheet = ? and row_number = ?",
                [sheet, mapping.reader.header_row]).fetchall()
        for row_number, cells in candidates:
            texts = [normalise(c) if c is not None else "" for c in cells]
            positions: dict[str, int] = {}
            for index, text in enumerate(texts, start=1):
                positions.setdefault(text, index)
            if all(name in positions for name in wanted):
                return Header(sheet, row_number, positions, [c or "" for c in cells]), None
    where = f"row {mapping.reader.header_row}" if mapping.reader.header_row != "auto" else \
        f"the first {HEADER_SEARCH_ROWS} rows"
    return None, (f"the header row was not found: no row in {where} of "
                  f"{' or '.join(repr(s) for s in sheets) if sheets[0] else 'the file'} names all "
                  f"of {', '.join(repr(n) for n in required)}")


def _required_columns(mapping: Mapping) -> list[str]:
    columns = mapping.columns
    names = [columns.period, columns.value, columns.indicator, columns.place, columns.combo,
             mapping.partner.column, *columns.disaggregations.values()]
    return [n for n in names if n]


def _apply_mapping(con, submission: Submission, mapping: Mapping,
                   extraction: Extraction) -> pa.Table:
    header, problem = _find_header(con, mapping, _required_columns(mapping))
    if header is None:
        extraction.problem = problem
        table = _problem_records(con, submission, mapping, None, 0, problem)
        extraction.data_rows = table.num_rows
        return table
    extraction.sheet, extraction.header_row = header.sheet, header.row_number
    extraction.data_rows = con.execute(
        "select count(*) from raw where sheet = ? and row_number > ?",
        [header.sheet, header.row_number]).fetchall()[0][0]

    def cell(name: str | None) -> str:
        return f"cells[{header.positions[normalise(name)]}]" if name else "null::varchar"

    columns = mapping.columns
    fixed = {key: _text(value) for key, value in mapping.fixed.items()}
    partner_source = "column" if mapping.partner.column else "folder"
    disaggregations = [f"{{'dimension': {_text(d)}, 'text': {cell(name)}}}"
                       for d, name in columns.disaggregations.items()]
    period_expr = fixed.get("period", cell(columns.period))
    formats = "[" + ", ".join(_text(f) for f in mapping.period_formats) + "]"
    summary = _summary_condition(mapping, header, cell)

    used = {normalise(n) for n in _required_columns(mapping)}
    if mapping.layout is Layout.LONG:
        value_columns = [(columns.value, None, {})]
    else:
        value_columns = []
        for value in mapping.values:
            if normalise(value.column) in header.positions:
                value_columns.append((value.column, value.indicator, value.disaggregation))
            else:
                extraction.missing_value_columns.append(value.column)
        if not value_columns:
            extraction.problem = ("none of the value columns was found in the header row: "
                                  + ", ".join(repr(v.column) for v in mapping.values))
            return _problem_records(con, submission, mapping, header, header.row_number,
                                    extraction.problem)
    used |= {normalise(c) for c, _, _ in value_columns}
    extraction.unused_columns = [t for t in header.texts if t and normalise(t) not in used]

    value_rows = []
    for position, (name, indicator, codes) in enumerate(value_columns):
        pairs = ", ".join(f"{{'dimension': {_text(d)}, 'text': {_text(c)}}}"
                          for d, c in codes.items())
        value_rows.append(
            f"select {position} as position, {_text(name)} as column_name, "
            f"{header.positions[normalise(name)]} as cell, "
            f"{_text(indicator) if indicator else 'null::varchar'} as indicator_code, "
            f"[{pairs}]::struct(dimension varchar, text varchar)[] as column_disaggregation")
    con.execute("create temp table value_column as " + " union all ".join(value_rows))

    indicator_expr = fixed.get("indicator", cell(columns.indicator))
    # In a wide table an empty cell means "not reported"; in a long one the row still counts.
    value_filter = ("value_text is not null and trim(value_text) <> ''"
                    if mapping.layout is Layout.WIDE else "true")
    disaggregation_list = "[" + ", ".join(disaggregations) + "]::struct(dimension varchar, text varchar)[]"
    query = f"""
        with data_row as (
            select sheet, row_number, cells,
                len(list_filter(cells, lambda c: c is not null and trim(c) <> '')) = 0 as is_blank,
                {summary} as summary_reason
            from raw where sheet = {_text(header.sheet)} and row_number > {header.row_number}
        ),
        candidate as (
            select r.*, v.position, v.column_name, v.indicator_code, v.column_disaggregation,
                list_extract(r.cells, v.cell) as value_text
            from data_row r cross join value_column v
            where not r.is_blank and r.summary_reason is null
        ),
        reported as (
            select * from candidate
            where {value_filter}
        ),
        silent_row as (
            select * from data_row r
            where not exists (select 1 from reported v where v.sheet = r.sheet
                                                         and v.row_number = r.row_number)
        )
        select {_text(submission.submission_id)} as submission_id,
            {_text(mapping.name)} as mapping_name, sheet, row_number, column_name,
            {_text(partner_source)} as partner_source,
            {cell(mapping.partner.column)} as partner_text,
            {period_expr} as period_text,
            cast(try_strptime(trim({period_expr}), {formats}) as date) as period_start,
            {fixed.get("place", cell(columns.place))} as place_text,
            coalesce(indicator_code, {indicator_expr}) as indicator_text,
            value_text,
            {cell(columns.combo)} as combo_text,
            list_concat(column_disaggregation, {disaggregation_list}) as disaggregation_text,
            null::varchar as problem
        from reported
        union all
        select {_text(submission.submission_id)}, {_text(mapping.name)}, sheet, row_number, null,
            {_text(partner_source)}, {cell(mapping.partner.column)}, {period_expr}, null,
            {fixed.get("place", cell(columns.place))}, null, null, null,
            []::struct(dimension varchar, text varchar)[],
            case when is_blank then 'blank row'
                 when summary_reason is not null then summary_reason
                 else 'no values reported in this row' end
        from silent_row
        order by sheet, row_number, column_name
    """
    return con.sql(query).to_arrow_table()


def _summary_condition(mapping: Mapping, header: Header, cell) -> str:
    """SQL that names why a row is a summary row (totals), or null."""
    roles = {"place": mapping.columns.place, "indicator": mapping.columns.indicator,
             "period": mapping.columns.period, "partner": mapping.partner.column}
    clauses = []
    for rule in mapping.summary_rows:
        column = roles.get(rule.column) or rule.column
        if normalise(column) not in header.positions:
            continue
        values = ", ".join(_text(normalise(v)) for v in rule.values)
        reason = _text(f"{rule.reason} ('{column}' says {' / '.join(rule.values)})")
        clauses.append(f"when {normalised_sql(cell(column))} in ({values}) then {reason}")
    return f"case {' '.join(clauses)} end" if clauses else "null::varchar"


def _problem_records(con, submission: Submission, mapping: Mapping | None, header: Header | None,
                     after_row: int, problem: str) -> pa.Table:
    """One record per non-structural row when the mapping cannot be applied at all."""
    sheet_filter = f"sheet = {_text(header.sheet)} and " if header else ""
    return con.sql(f"""
        select {_text(submission.submission_id)} as submission_id,
            {_text(mapping.name) if mapping else 'null::varchar'} as mapping_name,
            sheet, row_number, null::varchar as column_name,
            {_text('column' if mapping and mapping.partner.column else 'folder')} as partner_source,
            null::varchar as partner_text, null::varchar as period_text, null::date as period_start,
            null::varchar as place_text, null::varchar as indicator_text,
            null::varchar as value_text, null::varchar as combo_text,
            []::struct(dimension varchar, text varchar)[] as disaggregation_text,
            {_text(problem)} as problem
        from raw
        where {sheet_filter} row_number > {after_row}
            and len(list_filter(cells, lambda c: c is not null and trim(c) <> '')) > 0
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
