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
from murmuration.intake.readers import DHIS2_FIELDS
from murmuration.paths import ProjectPaths
from murmuration.registry import Registry
from murmuration.registry.loader import normalise
from murmuration.registry.mapping import Layout, Mapping, alternatives
from murmuration.registry.periods import parse_period, period_in_name

RECORDS_FILE = "records.parquet"
EXTRACT_FILE = "extract.json"
HEADER_SEARCH_ROWS = 50
EXTRACTION_VERSION = 7  # bump when the record layout changes, so every submission is redone
UNUSED_COLUMNS_LISTED = 100

RECORD_SCHEMA = pa.schema([
    ("submission_id", pa.string()),
    ("mapping_name", pa.string()),
    ("sheet", pa.string()),
    ("row_number", pa.int64()),
    ("column_name", pa.string()),
    ("partner_source", pa.string()),
    ("partner_text", pa.string()),
    ("unit_text", pa.string()),  # the partner's reporting unit (null: the partner as a whole)
    ("period_text", pa.string()),
    ("period_start", pa.date32()),
    ("period_source", pa.string()),  # cell, sheet name or file name
    ("place_text", pa.string()),
    ("indicator_text", pa.string()),
    ("value_text", pa.string()),
    ("is_withdrawal", pa.bool_()),  # the cell withdraws the value sent before (withdraw_values)
    ("combo_text", pa.string()),
    ("disaggregation_text", pa.list_(pa.struct([("dimension", pa.string()),
                                                 ("text", pa.string())]))),
    ("problem", pa.string()),
    # Why a row yields no value: summary (a total), no_values (it names something but reports
    # no value), excluded (require_rows), unmapped (the mapping could not be applied, or the
    # file is not the agreed template). Blank and empty template rows yield no record at all:
    # they are counted in extract.json (empty_rows).
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
    empty_rows: int = 0  # blank rows and template rows holding only zeros, dashes, a period
    data_rows: int = 0
    records: int = 0
    problem: str | None = None
    unused_columns: list[str] = field(default_factory=list)  # the first UNUSED_COLUMNS_LISTED
    unused_column_count: int = 0
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
                table = _problem_records(con, submission, None, None, 0, extraction.problem,
                                         extraction)
            else:
                table = _apply_mapping(con, paths, submission, mapping, extraction,
                                       registry.initiative.period_type.value)
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
                   extraction: Extraction, period_type: str) -> pa.Table:
    limit = HEADER_SEARCH_ROWS + 1 if mapping.reader.header_row == "auto" else \
        int(mapping.reader.header_row) + 1
    header, problem = find_header(_rows_by_sheet(con, limit), mapping)
    if header is None:
        extraction.problem = problem
        return _problem_records(con, submission, mapping, None, 0, problem, extraction)
    extraction.sheet, extraction.header_row = header.sheet, header.row_number
    extraction.hxl_row = header.data_after if header.data_after != header.row_number else None
    extraction.structure_rows, extraction.other_sheet_rows = con.execute(
        "select count(*) filter (where sheet = ? and row_number <= ?), "
        "count(*) filter (where sheet <> ?) from raw",
        [header.sheet, header.data_after, header.sheet]).fetchall()[0]

    try:
        names = id_names(paths.project_dir, mapping, _embedded_names(submission))
    except MetadataError as error:
        extraction.problem = str(error)
        extraction.structure_rows = extraction.other_sheet_rows = 0
        return _problem_records(con, submission, mapping, None, 0, str(error), extraction)
    con.execute("create temp table id_name (role varchar, id varchar, name varchar)")
    if names:
        con.executemany("insert into id_name values (?, ?, ?)", names)
    columns = MappedColumns(header, mapping, extraction)

    drift = _template_drift(header, mapping, columns)
    if drift:
        extraction.problem = drift
        return _problem_records(con, submission, mapping, header, header.data_after, drift,
                                extraction)

    fixed = {key: _text(value) for key, value in mapping.fixed.items()}
    period_cell = fixed.get("period") or (
        columns.cell("period", mapping.columns.period) if mapping.columns.period
        else "null::varchar")
    place_expr = fixed.get("place", columns.cell("place", mapping.columns.place))
    indicator_expr = fixed.get("indicator", columns.cell("indicator", mapping.columns.indicator))
    partner_expr = columns.cell("partner", mapping.partner.column)
    combo_expr = columns.cell("combo", mapping.columns.combo)
    unit_expr = _unit_expression(mapping, submission, columns)
    pairs = ", ".join(f"{{'dimension': {_text(d)}, 'text': {columns.cell(d, ref)}}}"
                      for d, ref in mapping.columns.disaggregations.items())
    disaggregation_list = f"[{pairs}]::struct(dimension varchar, text varchar)[]"
    row_problem, row_kind = _row_rules(mapping, header)
    # Cells that place a row (period, partner, reporting unit) without reporting anything: a
    # template row holding only these, zeros and dashes is empty, not data.
    context = sorted(columns.context_positions)
    context_test = f"i not in ({', '.join(map(str, context))}) and " if context else ""

    _value_column_table(con, columns.value_columns, header)
    # In a wide table an empty cell means "not reported"; in a long one the row still counts.
    value_filter = ("value_text is not null and trim(value_text) <> ''"
                    if mapping.layout is Layout.WIDE else "true")
    _period_table(con, period_cell, header, mapping, submission, period_type, extraction)
    withdraw = ", ".join(_text(normalise(v)) for v in mapping.withdraw_values) or "null"
    partner_source = _text("column" if mapping.partner.column else "folder")
    query = f"""
        with data_row as (
            select sheet, row_number, cells,
                len(list_filter(cells, lambda c: c is not null and trim(c) <> '')) = 0 as is_blank,
                len(list_filter(cells, lambda c, i: {context_test}c is not null
                    and not regexp_full_match(trim(c), '{EMPTY_CELL_PATTERN}'))) = 0 as is_empty,
                {row_problem} as row_problem,
                {row_kind} as row_kind,
                nullif(trim({period_cell}), '') as period_cell
            from raw where sheet = {_text(header.sheet)} and row_number > {header.data_after}
        ),
        data_row_with_period as (
            select data_row.*,
                coalesce(period_cell, fallback.text) as period_text,
                case when period_cell is not null then lookup.period_start
                     else fallback.period_start end as period_start,
                case when period_cell is not null then 'cell' else fallback.source end
                    as period_source
            from data_row
            left join period_lookup as lookup on lookup.text = data_row.period_cell
            cross join period_fallback as fallback
            where not is_blank and (row_problem is not null or not is_empty)
        ),
        candidate as (
            select r.*, v.value_order, v.column_name, v.indicator_code, v.column_disaggregation,
                list_extract(r.cells, v.cell) as value_text
            from data_row_with_period r cross join value_column v
            where r.row_problem is null
        ),
        reported as (
            select * from candidate where {value_filter}
        ),
        silent_row as (
            select * from data_row_with_period r
            where not exists (select 1 from reported v where v.sheet = r.sheet
                                                         and v.row_number = r.row_number)
        )
        select {_text(submission.submission_id)} as submission_id,
            {_text(mapping.name)} as mapping_name, sheet, row_number, column_name,
            {partner_source} as partner_source,
            {partner_expr} as partner_text,
            {unit_expr} as unit_text,
            period_text, period_start, period_source,
            {place_expr} as place_text,
            coalesce(indicator_code, {indicator_expr}) as indicator_text,
            value_text,
            {normalised_sql('value_text')} in ({withdraw}) as is_withdrawal,
            {combo_expr} as combo_text,
            list_concat(column_disaggregation, {disaggregation_list}) as disaggregation_text,
            null::varchar as problem,
            null::varchar as problem_kind
        from reported
        union all
        select {_text(submission.submission_id)}, {_text(mapping.name)}, sheet, row_number, null,
            {partner_source}, {partner_expr}, {unit_expr}, period_text, period_start,
            period_source, {place_expr}, null, null, false, null,
            []::struct(dimension varchar, text varchar)[],
            coalesce(row_problem, 'no values reported in this row'),
            coalesce(row_kind, 'no_values')
        from silent_row
        order by sheet, row_number, column_name
    """
    table = con.sql(query).to_arrow_table()
    extraction.data_rows = len(set(zip(table.column("sheet").to_pylist(),
                                       table.column("row_number").to_pylist(), strict=True)))
    extraction.empty_rows = con.execute(
        "select count(*) from raw where sheet = ? and row_number > ?",
        [header.sheet, header.data_after]).fetchall()[0][0] - extraction.data_rows
    return table


# A cell that reports nothing: empty, a zero (a formula total over empty cells) or a dash.
EMPTY_CELL_PATTERN = "|[-–—]|0+([.,]0+)?%?"


class MappedColumns:
    """Where each column the mapping reads sits in this file's header, and what is left over."""

    def __init__(self, header: Header, mapping: Mapping, extraction: Extraction):
        self.header, self.mapping, self.extraction = header, mapping, extraction
        self.resolved_roles = set(mapping.resolve_ids)
        self.used: set[int] = set()
        self.context_positions: set[int] = set()
        for role in ("period", "partner", "reporting_unit"):
            reference = {"period": mapping.columns.period, "partner": mapping.partner.column,
                         "reporting_unit": mapping.reporting_unit.column
                         if mapping.reporting_unit else None}[role]
            position = header.position(reference) if reference else None
            if position is not None:
                self.context_positions.add(position)
        if mapping.layout is Layout.LONG:
            self.value_columns = [(header.position(mapping.columns.value), None, {})]
        else:
            self.value_columns = []
            for value in mapping.values:
                position = header.position(value.column)
                self._warn(value.column)
                if position is None:
                    extraction.missing_value_columns.append(" or ".join(alternatives(value.column)))
                else:
                    self.value_columns.append((position, value.indicator, value.disaggregation))
        self.used |= {position for position, _, _ in self.value_columns}
        # Columns read by summary_rows / require_rows rules and deliberately ignored ones are
        # known to the mapping too.
        roles = {"partner": mapping.partner.column, **mapping.columns.roles()}
        for rule in [*mapping.summary_rows, *mapping.require_rows]:
            position = header.position(roles.get(rule.column) or rule.column)
            if position is not None:
                self.used.add(position)
        self.ignored = {p for ref in mapping.ignore_columns for p in header.matches_any(ref)}

    def _warn(self, reference) -> None:
        warning = self.header.ambiguity(reference)
        if warning and warning not in self.extraction.warnings:
            self.extraction.warnings.append(warning)

    def cell(self, role: str, reference) -> str:
        """SQL for the cell of ``role`` in a row (null when the mapping names no column)."""
        position = self.header.position(reference) if reference else None
        if position is None:
            return "null::varchar"
        self._warn(reference)
        self.used.add(position)
        raw = f"list_extract(cells, {position})"
        if role in self.resolved_roles:
            return (f"coalesce((select name from id_name where role = {_text(role)} and "
                    f"id = {raw}), {raw})")
        return raw

    def header_positions(self) -> list[int]:
        header = self.header
        return [p for p in range(1, max(len(header.texts), len(header.tags)) + 1)
                if p <= len(header.texts) and header.texts[p - 1].strip()
                or p <= len(header.tags) and header.tags[p - 1].strip()]


def _template_drift(header: Header, mapping: Mapping, columns: MappedColumns) -> str | None:
    """Why the file is not the agreed template (None when it is): more header columns the
    mapping does not know than it knows, or most of a wide table's value columns missing."""
    # Every column the mapping reads, so the ones left over are known precisely.
    for role, reference in {"partner": columns.mapping.partner.column,
                            **mapping.columns.roles()}.items():
        if reference and role != "value":
            columns.cell(role, reference)
    if mapping.reporting_unit is not None and mapping.reporting_unit.column:
        columns.cell("reporting_unit", mapping.reporting_unit.column)
    present = columns.header_positions()
    known = [p for p in present if p in columns.used or p in columns.ignored]
    # DHIS2's own fields (JSON or CSV exports) are part of the exchange format, not a template.
    unknown = [p for p in present if p not in columns.used and p not in columns.ignored
               and normalise(header.label(p)).replace(" ", "") not in DHIS2_FIELDS]
    extraction = columns.extraction
    extraction.unused_column_count = len(unknown)
    extraction.unused_columns = [header.label(p) for p in unknown[:UNUSED_COLUMNS_LISTED]]
    allowed = mapping.max_unknown_columns if mapping.max_unknown_columns is not None \
        else max(len(known), 1)
    missing = extraction.missing_value_columns
    too_many_missing = mapping.layout is Layout.WIDE and len(missing) * 2 > len(mapping.values)
    if len(unknown) <= allowed and not too_many_missing:
        return None
    parts = []
    if len(unknown) > allowed:
        shown = ", ".join(repr(header.label(p)) for p in unknown[:5])
        parts.append(f"{len(unknown):,} of its {len(present):,} columns are not in the mapping "
                     f"({shown}{', ...' if len(unknown) > 5 else ''})")
    if missing:
        parts.append(f"{len(missing)} of the {len(mapping.values)} value columns are missing "
                     f"({', '.join(repr(m) for m in missing[:5])}"
                     f"{', ...' if len(missing) > 5 else ''})")
    return ("not the agreed template: " + " and ".join(parts) + f"; mapping {mapping.name} "
            "expects the agreed columns. Send the agreed template, or ask the backbone to "
            "update the mapping")


def _unit_expression(mapping: Mapping, submission: Submission, columns: MappedColumns) -> str:
    """SQL for the row's reporting unit text (null: the partner as a whole)."""
    source = mapping.reporting_unit
    if source is None:
        return "null::varchar"
    if source.column:
        return columns.cell("reporting_unit", source.column)
    if source.folder:
        parts = Path(submission.inbox_path).parts
        return _text("/".join(parts[1:-1])) if len(parts) > 2 else "null::varchar"
    unit = source.from_file_name(submission.file_name)
    return _text(unit) if unit else "null::varchar"


def _value_column_table(con, value_columns, header: Header) -> None:
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


def _period_table(con, period_cell: str, header: Header, mapping: Mapping,
                  submission: Submission, period_type: str, extraction: Extraction) -> None:
    """Resolve each distinct period text of the file in Python (parse_period), and the period
    a sheet or file name gives when the cell is empty (period_fallback)."""
    formats = mapping.formats(period_type)
    texts = [row[0] for row in con.execute(
        f"select distinct nullif(trim({period_cell}), '') from raw where sheet = ? "
        "and row_number > ?", [header.sheet, header.data_after]).fetchall() if row[0]]
    con.execute("create temp table period_lookup (text varchar, period_start date)")
    if texts:
        con.executemany("insert into period_lookup values (?, ?)",
                        [(t, parse_period(t, formats, mapping.period_default_year))
                         for t in texts])
    fallback = (None, None, None)
    for source in mapping.period_fallback:
        name = header.sheet if source == "sheet_name" else submission.file_name
        start, words = period_in_name(name, formats, mapping.period_default_year)
        if start is not None:
            label = "sheet name" if source == "sheet_name" else "file name"
            fallback = (f"{words} ({label} '{name}')", start, label)
            break
    con.execute("create temp table period_fallback as select ?::varchar as text, "
                "?::date as period_start, ?::varchar as source", list(fallback))


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
                     after_row: int, problem: str, extraction: Extraction) -> pa.Table:
    """One record per non-blank row when the mapping cannot be applied at all (or the file is
    not the agreed template); blank rows are counted as empty."""
    sheet_filter = f"sheet = {_text(header.sheet)} and " if header else ""
    partner_source = _text("column" if mapping and mapping.partner.column else "folder")
    table = con.sql(f"""
        select {_text(submission.submission_id)} as submission_id,
            {_text(mapping.name) if mapping else 'null::varchar'} as mapping_name,
            sheet, row_number, null::varchar as column_name,
            {partner_source} as partner_source,
            null::varchar as partner_text, null::varchar as unit_text,
            null::varchar as period_text, null::date as period_start,
            null::varchar as period_source,
            null::varchar as place_text, null::varchar as indicator_text,
            null::varchar as value_text, false as is_withdrawal, null::varchar as combo_text,
            []::struct(dimension varchar, text varchar)[] as disaggregation_text,
            {_text(problem)} as problem,
            'unmapped' as problem_kind
        from raw
        where {sheet_filter} row_number > {after_row}
            and len(list_filter(cells, lambda c: c is not null and trim(c) <> '')) > 0
        order by sheet, row_number
    """).to_arrow_table()
    extraction.data_rows = table.num_rows
    extraction.empty_rows = con.execute(
        f"select count(*) from raw where {sheet_filter} row_number > {after_row}").fetchall(
        )[0][0] - table.num_rows
    return table


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
