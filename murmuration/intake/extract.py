"""Apply a partner's mapping contract to its landed cells: one record per reported value.

The mapping decides, per file, where the header is and which column holds what (a little Python
on each file's first rows). Files whose headers put the columns in the same places are then
mapped together, set-based: one DuckDB query per mapping and header layout, over a batch of
files read in one scan, turns raw rows into *records*: the partner's own text for partner,
period, place, indicator, disaggregations and value, with the period parsed by the mapping's
formats. Codes, units and validity are decided later, in dbt, from the registry.

Row accounting: every data row yields at least one record. A row that carries no value (a
summary row, a row naming something but reporting nothing) yields one record whose ``problem``
says why; blank and empty template rows are counted, not recorded, so ``rows read = structure +
other sheets + empty + data rows`` always holds downstream.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy
import pyarrow as pa
import pyarrow.parquet as pq

from murmuration.files import write_json_atomic
from murmuration.intake.header import Header, find_header
from murmuration.intake.landing import LANDING_THREADS, ROWS_FILE, Submission
from murmuration.intake.metadata import MetadataError, id_names
from murmuration.intake.readers import DHIS2_FIELDS, scratch_connection
from murmuration.intake.reasons import shown_cell, shown_cell_sql
from murmuration.paths import ProjectPaths
from murmuration.registry import Registry
from murmuration.registry.loader import normalise
from murmuration.registry.mapping import Layout, Mapping, alternatives
from murmuration.registry.periods import parse_period, period_in_name, year_in_name
from murmuration.sqltext import literal, normalised_sql

RECORDS_FILE = "records.parquet"
EXTRACT_FILE = "extract.json"
HEADER_SEARCH_ROWS = 50
EXTRACTION_VERSION = 8  # bump when the record layout changes, so every submission is redone
UNUSED_COLUMNS_LISTED = 100
BATCH_FILES = 500  # files read into one scratch table at a time
# The scratch tables a batch creates on the shared connection (dropped after each).
SCRATCH_TABLES = ("raw", "id_name", "value_column", "period_lookup", "constant", "layout")

RECORD_SCHEMA = pa.schema([
    ("submission_id", pa.string()),
    ("mapping_name", pa.string()),
    ("sheet", pa.string()),
    ("row_number", pa.int64()),
    ("column_name", pa.string()),
    ("partner_source", pa.string()),
    ("partner_text", pa.string()),
    ("unit_text", pa.string()),  # the partner's reporting unit (null: the partner as a whole)
    # The values of the columns that make rows different reports (distinct_reports_by:
    # project, donor, lead organisation), joined with ' / '; null when the mapping names none.
    ("report_text", pa.string()),
    # The site (or beneficiary group) of the row (dedupe_by), joined with ' / '.
    ("dedupe_text", pa.string()),
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
    # Every mapping that read the file (several when each reads a sheet of its own).
    mapping_names: list[str] = field(default_factory=list)
    # Why only one of the mappings covering the file read it (Registry.mappings_for).
    mapping_note: str | None = None


# What a mapping says that only dbt reads (codes resolved, combos split, units converted):
# changing them does not map the files again (their records are the same); the submissions are
# rebuilt through their mapping's definitions fingerprint (murmuration.warehouse).
RESOLVED_IN_DBT = {"codes", "combos", "units", "description", "complete"}


def mapping_fingerprint(mapping: Mapping | None) -> str:
    read = mapping.model_dump(mode="json", exclude=RESOLVED_IN_DBT) if mapping else None
    text = json.dumps([EXTRACTION_VERSION, read], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def mappings_fingerprint(mappings: list[Mapping]) -> str:
    """The fingerprint of how a file is read: its mapping's, or that of every mapping that
    reads a sheet of it."""
    if len(mappings) <= 1:
        return mapping_fingerprint(mappings[0] if mappings else None)
    text = json.dumps([mapping_fingerprint(m) for m in mappings])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def needs_extraction(paths: ProjectPaths, submission: Submission,
                     mapping: Mapping | list[Mapping] | None) -> bool:
    state = paths.submission_dir(submission.submission_id) / EXTRACT_FILE
    if not state.exists():
        return True
    mappings = mapping if isinstance(mapping, list) else [mapping] if mapping else []
    return json.loads(state.read_text())["fingerprint"] != mappings_fingerprint(mappings)


def extract_submission(paths: ProjectPaths, registry: Registry,
                       submission: Submission) -> Extraction:
    """Write records.parquet and extract.json for one landed submission."""
    return extract_batch(paths, registry, [submission])[0]


def extract_pending(paths: ProjectPaths, registry: Registry,
                    submissions: list[Submission]) -> list[Extraction]:
    """Extract every submission that is new or whose mapping changed since it was extracted,
    a batch of files per mapping at a time."""
    by_mapping: dict[str | None, list[Submission]] = {}
    several = []
    for submission in submissions:
        mappings, _ = registry.mappings_for(submission.folder, submission.file_name)
        if not needs_extraction(paths, submission, mappings):
            continue
        if len(mappings) > 1:
            several.append(submission)
        else:
            by_mapping.setdefault(mappings[0].name if mappings else None, []).append(submission)
    done = []
    for batch in by_mapping.values():
        for start in range(0, len(batch), BATCH_FILES):
            done += extract_batch(paths, registry, batch[start:start + BATCH_FILES])
    done += [extract_sheets(paths, registry, submission) for submission in several]
    return done


@dataclass
class Plan:
    """How one submission's rows are read: the SQL its header layout calls for."""

    submission: Submission
    extraction: Extraction
    header: Header
    sql: dict[str, str]

    @property
    def layout(self) -> tuple:
        return tuple(sorted(self.sql.items()))


def extract_batch(paths: ProjectPaths, registry: Registry,
                  submissions: list[Submission]) -> list[Extraction]:
    """Extract submissions that share a mapping (or have none): their rows are read in one
    scan, each file's header found on its first rows, and the files whose headers put the
    columns in the same places are mapped by one query. Writes records.parquet and extract.json
    per submission; returns the extractions in the order given."""
    mappings = [registry.mapping_for(s.folder, s.file_name) for s in submissions]
    assert len({m.name if m else None for m in mappings}) == 1, "one mapping per batch"
    extractions, tables = _extract(paths, registry, submissions, mappings[0])
    for submission in submissions:  # another mapping covering the file, not applied: said so
        extraction = extractions[submission.submission_id]
        _, extraction.mapping_note = registry.mappings_for(submission.folder,
                                                           submission.file_name)
        if extraction.mapping_note:
            extraction.warnings.append(extraction.mapping_note)
    _write(paths, submissions, extractions, tables)
    return [extractions[s.submission_id] for s in submissions]


def extract_sheets(paths: ProjectPaths, registry: Registry,
                   submission: Submission) -> Extraction:
    """A file several mappings read, each its own sheet (Registry.mappings_for): each sheet is
    mapped by its mapping, and the file's rows are accounted for once - the sheets no mapping
    reads are the other sheets' rows."""
    mappings, _ = registry.mappings_for(submission.folder, submission.file_name)
    parts = [_extract(paths, registry, [submission], mapping) for mapping in mappings]
    sid = submission.submission_id
    pieces = [extractions[sid] for extractions, _ in parts]
    merged = Extraction(sid, mappings[0].name, mappings_fingerprint(mappings),
                        mapping_names=[m.name for m in mappings])
    merged.sheet = ", ".join(p.sheet for p in pieces if p.sheet) or None
    merged.header_row = next((p.header_row for p in pieces if p.header_row), None)
    merged.hxl_row = next((p.hxl_row for p in pieces if p.hxl_row), None)
    for name in ("structure_rows", "empty_rows", "data_rows", "unused_column_count"):
        setattr(merged, name, sum(getattr(p, name) for p in pieces))
    merged.other_sheet_rows = max((submission.rows_read or 0) - merged.structure_rows
                                  - merged.empty_rows - merged.data_rows, 0)
    problems = [f"{m.name}: {p.problem}" for m, p in zip(mappings, pieces, strict=True)
                if p.problem]
    merged.problem = "; ".join(problems) or None
    for piece in pieces:
        merged.unused_columns += piece.unused_columns
        merged.missing_value_columns += piece.missing_value_columns
        merged.warnings += piece.warnings
    tables = [t[sid] for _, t in parts if sid in t]
    table = pa.concat_tables([t.cast(RECORD_SCHEMA) for t in tables]) if tables \
        else RECORD_SCHEMA.empty_table()
    _write(paths, [submission], {sid: merged}, {sid: table})
    return merged


def _extract(paths: ProjectPaths, registry: Registry, submissions: list[Submission],
             mapping: Mapping | None) -> tuple[dict[str, Extraction], dict[str, pa.Table]]:
    """Apply one mapping (or none) to submissions: their extractions and record tables."""
    period_type = registry.initiative.period_type.value
    extractions = {s.submission_id: Extraction(s.submission_id, mapping.name if mapping else None,
                                               mapping_fingerprint(mapping),
                                               mapping_names=[mapping.name] if mapping else [])
                   for s in submissions}
    tables: dict[str, pa.Table] = {}
    landed = [s for s in submissions if s.status == "landed"]
    con = scratch_connection()
    try:
        if landed:
            _load_raw(con, paths, landed)
        if landed and mapping is None:
            for submission in landed:
                problem = (f"no mapping covers '{submission.file_name}' in inbox folder "
                           f"'{submission.folder}'; add one under mappings/ (see "
                           "docs/mappings.md, Onboard a partner)")
                extractions[submission.submission_id].problem = problem
                tables[submission.submission_id] = _problem_records(
                    con, submission, None, None, 0, problem, extractions[submission.submission_id])
        elif landed:
            plans = _plans(con, paths, mapping, landed, extractions, tables, period_type,
                           registry.initiative.limits.cell_chars_in_messages)
            by_layout: dict[tuple, list[Plan]] = {}
            for plan in plans:
                by_layout.setdefault(plan.layout, []).append(plan)
            for group in by_layout.values():
                tables.update(_apply_plans(con, mapping, group, period_type))
    finally:
        for scratch in SCRATCH_TABLES:
            con.execute(f"drop table if exists {scratch}")
    return extractions, tables


def _write(paths: ProjectPaths, submissions: list[Submission],
           extractions: dict[str, Extraction], tables: dict[str, pa.Table]) -> None:
    """records.parquet and extract.json per submission."""

    def write(submission: Submission) -> None:
        extraction = extractions[submission.submission_id]
        table = tables.get(submission.submission_id, RECORD_SCHEMA.empty_table())
        extraction.records = table.num_rows
        folder = paths.submission_dir(submission.submission_id)
        pq.write_table(table.cast(RECORD_SCHEMA), folder / RECORDS_FILE)
        write_json_atomic(folder / EXTRACT_FILE, asdict(extraction), indent=2)

    # Parquet encodes outside the GIL: the files of a batch written a few at a time, as many
    # as files are landed at once.
    with ThreadPoolExecutor(max_workers=LANDING_THREADS) as pool:
        list(pool.map(write, submissions))


def _load_raw(con, paths: ProjectPaths, submissions: list[Submission]) -> None:
    """Every row of the batch's files, each tagged with its submission, in one scan."""
    files = [str(paths.submission_dir(s.submission_id) / ROWS_FILE) for s in submissions]
    con.execute(
        "create or replace temp table raw as select "
        "regexp_extract(filename, '([^/\\\\]+)[/\\\\][^/\\\\]+$', 1) as submission_id, "
        "sheet, row_number, cells from read_parquet(?, filename = true)", [files])


HEADER_SEARCH_SQL = (
    "select submission_id, sheet, row_number, cells from raw where row_number <= ? "
    "order by submission_id, min(rowid) over (partition by submission_id, sheet), row_number")


def _rows_by_submission(con, limit: int) -> dict[str, dict[str, list[tuple[int, list]]]]:
    rows: dict[str, dict[str, list[tuple[int, list]]]] = {}
    for submission_id, sheet, row_number, cells in con.execute(HEADER_SEARCH_SQL,
                                                               [limit]).fetchall():
        rows.setdefault(submission_id, {}).setdefault(sheet, []).append((row_number, cells))
    return rows


def _plans(con, paths: ProjectPaths, mapping: Mapping, submissions: list[Submission],
           extractions: dict[str, Extraction], tables: dict[str, pa.Table],
           period_type: str, cell_chars: int) -> list[Plan]:
    """Each submission's header and the SQL it calls for; files whose mapping cannot be
    applied get their problem records at once (in ``tables``). Reasons quote at most
    ``cell_chars`` characters of a partner's cell (limits.cell_chars_in_messages)."""
    limit = HEADER_SEARCH_ROWS + 1 if mapping.reader.header_row == "auto" else \
        int(mapping.reader.header_row) + 1
    first_rows = _rows_by_submission(con, limit)
    try:
        shared_names = id_names(paths.project_dir, mapping, {})
        names_problem = None
    except MetadataError as error:
        shared_names, names_problem = [], str(error)
    embedded = any(source.value == "embedded" for source in mapping.resolve_ids.values())
    con.execute("create or replace temp table id_name (for_submission varchar, role varchar, "
                "id varchar, name varchar)")
    if shared_names:
        con.executemany("insert into id_name values (null, ?, ?, ?)", shared_names)
    plans = []
    for submission in submissions:
        extraction = extractions[submission.submission_id]
        header, problem = find_header(first_rows.get(submission.submission_id, {}), mapping)
        if header is None or names_problem:
            extraction.problem = problem or names_problem
            tables[submission.submission_id] = _problem_records(
                con, submission, mapping, None, 0, extraction.problem, extraction)
            continue
        extraction.sheet, extraction.header_row = header.sheet, header.row_number
        extraction.hxl_row = header.data_after if header.data_after != header.row_number \
            else None
        if embedded:
            names = [(role, identifier, name) for role, identifier, name in
                     id_names(paths.project_dir, mapping, _embedded_names(submission))
                     if mapping.resolve_ids[role].value == "embedded"]
            if names:
                con.executemany("insert into id_name values (?, ?, ?, ?)",
                                [(submission.submission_id, *name) for name in names])
        columns = MappedColumns(header, mapping, extraction, period_type, submission.file_name)
        drift = _template_drift(header, mapping, columns, cell_chars)
        if drift:
            extraction.problem = drift
            tables[submission.submission_id] = _problem_records(
                con, submission, mapping, header, header.data_after, drift, extraction)
            continue
        plans.append(Plan(submission, extraction, header, _plan_sql(mapping, header, columns,
                                                                     cell_chars)))
    return plans


def _plan_sql(mapping: Mapping, header: Header, columns: MappedColumns,
              cell_chars: int) -> dict[str, str]:
    """The SQL expressions a header layout calls for (equal for files laid out alike)."""
    fixed = {key: literal(value) for key, value in mapping.fixed.items()}
    source = mapping.reporting_unit
    unit = ("null::varchar" if source is None else
            columns.cell("reporting_unit", source.column) if source.column else
            "constant.unit_text")
    pairs = ", ".join(f"{{'dimension': {literal(d)}, 'text': {columns.cell(d, ref)}}}"
                      for d, ref in mapping.columns.disaggregations.items())
    row_problem, row_kind = _row_rules(mapping, header, cell_chars)
    # Cells that place a row (period, partner, reporting unit) without reporting anything: a
    # template row holding only these, zeros and dashes is empty, not data.
    context = sorted(columns.context_positions)
    value_columns = []
    for order, (position, indicator, codes, period_text, period_start) in enumerate(
            columns.value_columns):
        column_pairs = ", ".join(f"{{'dimension': {literal(d)}, 'text': {literal(c)}}}"
                                 for d, c in codes.items())
        value_columns.append(
            f"select {order} as value_order, {literal(header.label(position))} as column_name, "
            f"{position} as cell, "
            f"{literal(indicator) if indicator else 'null::varchar'} as indicator_code, "
            f"[{column_pairs}]::struct(dimension varchar, text varchar)[] as column_disaggregation, "
            f"{literal(period_text) if period_text else 'null::varchar'} as column_period_text, "
            f"{literal(period_start.isoformat()) + '::date' if period_start else 'null::date'} "
            "as column_period_start")
    return {
        "sheet": literal(header.sheet),
        "data_after": str(header.data_after),
        "period_cell": fixed.get("period") or (
            columns.cell("period", mapping.columns.period) if mapping.columns.period
            else "null::varchar"),
        "place": fixed.get("place", columns.cell("place", mapping.columns.place)),
        "indicator": fixed.get("indicator", columns.cell("indicator", mapping.columns.indicator)),
        "partner": columns.cell("partner", mapping.partner.column),
        "combo": columns.cell("combo", mapping.columns.combo),
        "unit": unit,
        "report": columns.joined("report", mapping.distinct_reports_by),
        "dedupe": columns.joined("dedupe", mapping.dedupe_by),
        "disaggregations": f"[{pairs}]::struct(dimension varchar, text varchar)[]",
        "row_problem": row_problem,
        "row_kind": row_kind,
        "context_test": f"i not in ({', '.join(map(str, context))}) and " if context else "",
        "value_columns": " union all ".join(value_columns),
    }


def _apply_plans(con, mapping: Mapping, plans: list[Plan], period_type: str
                 ) -> dict[str, pa.Table]:
    """One query maps every file of a header layout; returns each submission's records."""
    sql = plans[0].sql
    con.execute("create or replace temp table value_column as " + sql["value_columns"])
    con.execute("create or replace temp table layout (submission_id varchar)")
    con.executemany("insert into layout values (?)",
                    [(plan.submission.submission_id,) for plan in plans])
    _constants(con, mapping, plans, period_type)
    _period_lookup(con, sql, mapping, period_type)
    table = con.sql(_records_query(mapping, sql)).to_arrow_table()
    counts = _row_counts(con, sql)
    tables = _split(table)
    # Rows that gave records, per submission: one grouping for the layout (one per file was
    # seconds at thousands of files).
    rows = table.group_by(["submission_id", "sheet", "row_number"]).aggregate([]) \
        .group_by("submission_id").aggregate([([], "count_all")])
    data_rows_of = dict(zip(rows.column("submission_id").to_pylist(),
                            rows.column("count_all").to_pylist(), strict=True))
    for plan in plans:
        submission_id = plan.submission.submission_id
        mine = tables.get(submission_id, RECORD_SCHEMA.empty_table())
        below, structure, other = counts.get(submission_id, (0, 0, 0))
        data_rows = data_rows_of.get(submission_id, 0)
        plan.extraction.structure_rows, plan.extraction.other_sheet_rows = structure, other
        plan.extraction.data_rows, plan.extraction.empty_rows = data_rows, below - data_rows
        tables[submission_id] = mine
    return tables


def _records_query(mapping: Mapping, sql: dict[str, str]) -> str:
    """The records of every file of the layout (temp tables raw, layout, value_column,
    constant, period_lookup): one per reported value, one per row that reported none."""
    # In a wide table an empty cell means "not reported"; in a long one the row still counts.
    # A cell the mapping's empty_values name ('-', 'n/a') reports nothing in either.
    empty = ", ".join(literal(normalise(v)) for v in mapping.empty_values)
    said_nothing = f"coalesce({normalised_sql('value_text')} in ({empty}), false)" if empty \
        else "false"
    value_filter = (f"value_text is not null and trim(value_text) <> '' and not {said_nothing}"
                    if mapping.layout is Layout.WIDE else f"not {said_nothing}")
    withdraw = ", ".join(literal(normalise(v)) for v in mapping.withdraw_values) or "null"
    partner_source = literal("column" if mapping.partner.column else "folder")
    return f"""
        with layout_row as (
            select raw.* from raw semi join layout using (submission_id)
            where sheet = {sql['sheet']} and row_number > {sql['data_after']}
        ),
        data_row as (
            select submission_id, sheet, row_number, cells,
                len(list_filter(cells, lambda c: c is not null and trim(c) <> '')) = 0 as is_blank,
                len(list_filter(cells, lambda c, i: {sql['context_test']}c is not null
                    and not regexp_full_match(trim(c), '{EMPTY_CELL_PATTERN}'))) = 0 as is_empty,
                {sql['row_problem']} as row_problem,
                {sql['row_kind']} as row_kind,
                nullif(trim({sql['period_cell']}), '') as period_cell
            from layout_row
        ),
        data_row_with_period as (
            select data_row.*, constant.unit_text,
                coalesce(period_cell, constant.fallback_text) as period_text,
                case when period_cell is not null then lookup.period_start
                     else constant.fallback_start end as period_start,
                case when period_cell is not null then 'cell' else constant.fallback_source end
                    as period_source
            from data_row
            join constant using (submission_id)
            left join period_lookup as lookup on lookup.text = data_row.period_cell
            where not is_blank and (row_problem is not null or not is_empty)
        ),
        candidate as (
            select r.* exclude (period_text, period_start, period_source),
                coalesce(v.column_period_text, r.period_text) as period_text,
                case when v.column_period_text is not null then v.column_period_start
                     else r.period_start end as period_start,
                case when v.column_period_text is not null then 'column header'
                     else r.period_source end as period_source,
                v.value_order, v.column_name, v.indicator_code, v.column_disaggregation,
                list_extract(r.cells, v.cell) as value_text
            from data_row_with_period r cross join value_column v
            where r.row_problem is null
        ),
        reported as (
            select * from candidate where {value_filter}
        ),
        silent_row as (
            select * from data_row_with_period r
            where not exists (select 1 from reported v
                              where v.submission_id = r.submission_id and v.sheet = r.sheet
                                  and v.row_number = r.row_number)
        )
        select submission_id, {literal(mapping.name)} as mapping_name, sheet, row_number,
            column_name,
            {partner_source} as partner_source,
            {sql['partner']} as partner_text,
            {sql['unit'].replace('constant.', '')} as unit_text,
            {sql['report']} as report_text,
            {sql['dedupe']} as dedupe_text,
            period_text, period_start, period_source,
            {sql['place']} as place_text,
            coalesce(indicator_code, {sql['indicator']}) as indicator_text,
            value_text,
            {normalised_sql('value_text')} in ({withdraw}) as is_withdrawal,
            {sql['combo']} as combo_text,
            list_concat(column_disaggregation, {sql['disaggregations']}) as disaggregation_text,
            null::varchar as problem,
            null::varchar as problem_kind
        from reported
        union all
        select submission_id, {literal(mapping.name)}, sheet, row_number, null,
            {partner_source}, {sql['partner']}, {sql['unit'].replace('constant.', '')},
            {sql['report']}, {sql['dedupe']},
            period_text, period_start, period_source, {sql['place']}, null, null, false, null,
            []::struct(dimension varchar, text varchar)[],
            coalesce(row_problem, 'no values reported in this row'),
            coalesce(row_kind, 'no_values')
        from silent_row
        order by submission_id, sheet, row_number, column_name
    """


def _row_counts(con, sql: dict[str, str]) -> dict[str, tuple[int, int, int]]:
    """Per submission of the layout: rows below the header, rows of the header and above it,
    rows of the sheets the mapping does not read."""
    return {submission_id: (rows, structure, other) for submission_id, rows, structure, other
            in con.execute(f"""
        select submission_id,
            count(*) filter (where sheet = {sql['sheet']} and row_number > {sql['data_after']}),
            count(*) filter (where sheet = {sql['sheet']} and row_number <= {sql['data_after']}),
            count(*) filter (where sheet <> {sql['sheet']})
        from raw semi join layout using (submission_id)
        group by submission_id""").fetchall()}


def _split(table: pa.Table) -> dict[str, pa.Table]:
    """A table ordered by submission_id, cut into one table per submission."""
    if table.num_rows == 0:
        return {}
    ids = table.column("submission_id").combine_chunks().dictionary_encode()
    codes = ids.indices.to_numpy(zero_copy_only=False)
    starts = [0, *(numpy.flatnonzero(numpy.diff(codes)) + 1).tolist()]
    ends = starts[1:] + [len(codes)]
    names = ids.dictionary.to_pylist()
    return {names[codes[start]]: table.slice(start, end - start)
            for start, end in zip(starts, ends, strict=True)}


CONSTANT_COLUMNS = {"submission_id": pa.string(), "unit_text": pa.string(),
                    "fallback_text": pa.string(), "fallback_start": pa.date32(),
                    "fallback_source": pa.string()}


def _constants(con, mapping: Mapping, plans: list[Plan], period_type: str) -> None:
    """Per submission: its reporting unit when the folder or file name says it, and the period
    a sheet or file name gives when the cell is empty (period_fallback)."""
    formats = mapping.formats(period_type)
    rows = []
    for plan in plans:
        submission, source = plan.submission, mapping.reporting_unit
        unit = None
        if source is not None and source.folder:
            parts = Path(submission.inbox_path).parts
            unit = "/".join(parts[1:-1]) if len(parts) > 2 else None
        elif source is not None and source.file_name:
            unit = source.from_file_name(submission.file_name)
        fallback = (None, None, None)
        for kind in mapping.period_fallback:
            name = plan.header.sheet if kind == "sheet_name" else submission.file_name
            start, words = period_in_name(name, formats, mapping.period_default_year)
            if start is not None:
                label = "sheet name" if kind == "sheet_name" else "file name"
                fallback = (f"{words} ({label} '{name}')", start, label)
                break
        rows.append((submission.submission_id, unit, *fallback))
    # One statement for the batch (executemany is a round trip per file: seconds at 2,880).
    con.register("constant_rows", pa.Table.from_pylist(
        [dict(zip(CONSTANT_COLUMNS, row, strict=True)) for row in rows],
        schema=pa.schema(list(CONSTANT_COLUMNS.items()))))
    con.execute("create or replace temp table constant as select * from constant_rows")
    con.unregister("constant_rows")


def _period_lookup(con, sql: dict[str, str], mapping: Mapping, period_type: str) -> None:
    """Each distinct period text of the files, resolved in Python (parse_period)."""
    formats = mapping.formats(period_type)
    texts = [row[0] for row in con.execute(
        f"select distinct nullif(trim({sql['period_cell']}), '') from raw "
        f"semi join layout using (submission_id) where sheet = {sql['sheet']} "
        f"and row_number > {sql['data_after']}").fetchall() if row[0]]
    con.execute("create or replace temp table period_lookup (text varchar, period_start date)")
    if texts:
        con.executemany("insert into period_lookup values (?, ?)",
                        [(t, parse_period(t, formats, mapping.period_default_year))
                         for t in texts])


def _year_in(file_name: str, sheet: str | None) -> int | None:
    """The year a file's or sheet's name gives, for period headers without one."""
    return year_in_name(file_name) or year_in_name(sheet)


# A cell that reports nothing: empty, a zero (a formula total over empty cells) or a dash.
EMPTY_CELL_PATTERN = "|[-–—]|0+([.,]0+)?%?"


class MappedColumns:
    """Where each column the mapping reads sits in this file's header, and what is left over.

    ``value_columns``: (position, indicator, breakdown codes, period text, period start) per
    value column; the period is None unless the column gives it (periods as columns)."""

    def __init__(self, header: Header, mapping: Mapping, extraction: Extraction,
                 period_type: str = "month", file_name: str = ""):
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
        self.value_columns: list[tuple] = []
        if mapping.layout is Layout.LONG:
            self.value_columns = [(header.position(mapping.columns.value), None, {}, None, None)]
        else:
            formats = [f for f in mapping.formats(period_type) if f != "excel_serial"]
            default_year = mapping.period_default_year or _year_in(file_name, header.sheet)
            for value in mapping.fixed_value_columns:
                position = header.position(value.column)
                self._warn(value.column)
                if position is None:
                    extraction.missing_value_columns.append(" or ".join(alternatives(value.column)))
                    continue
                start = parse_period(value.period, mapping.formats(period_type),
                                     mapping.period_default_year) if value.period else None
                self.value_columns.append((position, value.indicator, value.disaggregation,
                                           value.period, start))
            taken = self._role_positions() | {p for p, *_ in self.value_columns}
            for value in mapping.values:
                if not value.period_headers:
                    continue
                for position in range(1, len(header.texts) + 1):
                    label = header.label(position)
                    if position in taken or not header.texts[position - 1].strip():
                        continue
                    pattern = value.header_pattern
                    found = pattern.search(label) if pattern else None
                    text = found["period"] if found else (None if pattern else label)
                    start = parse_period(text, formats, default_year) if text else None
                    if start is not None:
                        self.value_columns.append((position, value.indicator,
                                                   value.disaggregation, label, start))
                        taken.add(position)
            if any(v.period_headers for v in mapping.values) and not any(
                    period for *_, period in self.value_columns):
                extraction.missing_value_columns.append(
                    "a column whose header is a period (Jan, 2025-01, ...)"
                    + ("" if default_year else "; for months without a year give "
                       "period_default_year"))
        self.used |= {position for position, *_ in self.value_columns}
        # Columns read by summary_rows / require_rows rules and deliberately ignored ones are
        # known to the mapping too.
        roles = {"partner": mapping.partner.column, **mapping.columns.roles()}
        for rule in [*mapping.summary_rows, *mapping.require_rows]:
            position = header.position(roles.get(rule.column) or rule.column)
            if position is not None:
                self.used.add(position)
        self.ignored = {p for ref in mapping.ignore_columns for p in header.matches_any(ref)}

    def _role_positions(self) -> set[int]:
        """Where the columns of the mapping's roles are (never read as period headers)."""
        mapping, header = self.mapping, self.header
        references = [*mapping.columns.roles().values(), mapping.partner.column,
                      mapping.reporting_unit.column if mapping.reporting_unit else None,
                      *mapping.dedupe_by, *mapping.distinct_reports_by,
                      *(rule.column for rule in [*mapping.summary_rows, *mapping.require_rows])]
        found = {header.position(ref) for ref in references if ref}
        found |= {p for ref in mapping.ignore_columns for p in header.matches_any(ref)}
        return {p for p in found if p is not None}

    def joined(self, role: str, references: list) -> str:
        """SQL joining the cells of several columns with ' / ' (null when all are empty)."""
        if not references:
            return "null::varchar"
        cells = [f"nullif(trim({self.cell(role, ref)}), '')" for ref in references]
        return f"nullif(concat_ws(' / ', {', '.join(cells)}), '')"

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
            return (f"coalesce((select any_value(name) from id_name where role = {literal(role)} "
                    f"and id = {raw} and (for_submission is null "
                    f"or for_submission = submission_id)), {raw})")
        return raw

    def header_positions(self) -> list[int]:
        header = self.header
        return [p for p in range(1, max(len(header.texts), len(header.tags)) + 1)
                if p <= len(header.texts) and header.texts[p - 1].strip()
                or p <= len(header.tags) and header.tags[p - 1].strip()]


def _template_drift(header: Header, mapping: Mapping, columns: MappedColumns,
                    cell_chars: int) -> str | None:
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
    expected = len(mapping.fixed_value_columns) + any(v.period_headers for v in mapping.values)
    too_many_missing = mapping.layout is Layout.WIDE and len(missing) * 2 > expected
    if len(unknown) <= allowed and not too_many_missing:
        return None
    parts = []
    if len(unknown) > allowed:
        shown = ", ".join(f"'{shown_cell(header.label(p), cell_chars)}'"
                          for p in unknown[:5])
        parts.append(f"{len(unknown):,} of its {len(present):,} columns are not in the mapping "
                     f"({shown}{', ...' if len(unknown) > 5 else ''})")
    if missing:
        parts.append(f"{len(missing)} of the {expected} value columns are missing "
                     f"({', '.join(repr(m) for m in missing[:5])}"
                     f"{', ...' if len(missing) > 5 else ''})")
    return ("not the agreed template: " + " and ".join(parts) + f"; mapping {mapping.name} "
            "expects the agreed columns. Send the agreed template, or ask the backbone to "
            "update the mapping")


def _embedded_names(submission: Submission) -> dict[str, str]:
    details = json.loads(submission.reader_details or "{}")
    return details.get("item_names") or {}


def _row_rules(mapping: Mapping, header: Header, cell_chars: int) -> tuple[str, str]:
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
        values = ", ".join(literal(normalise(v)) for v in rule.values)
        label = literal(shown_cell(header.label(position), cell_chars))
        shown = shown_cell_sql(cell, cell_chars)
        if required:
            reason = literal(rule.reason or f"only {', '.join(rule.values)} accepted")
            condition = f"{normalised_sql(cell)} not in ({values})"
            reasons.append(f"when {condition} then {label} || ' is ''' || "
                           f"coalesce({shown}, '') || ''': ' || {reason}")
            kinds.append(f"when {condition} then 'excluded'")
        else:
            reason = literal(rule.reason or "summary row (a total), not data")
            condition = f"{normalised_sql(cell)} in ({values})"
            reasons.append(f"when {condition} then {reason} || ' (' || {label} || ' says ''' "
                           f"|| {shown} || ''')'")
            kinds.append(f"when {condition} then 'summary'")
    if not reasons:
        return "null::varchar", "null::varchar"
    return f"case {' '.join(reasons)} end", f"case {' '.join(kinds)} end"


def _problem_records(con, submission: Submission, mapping: Mapping | None, header: Header | None,
                     after_row: int, problem: str, extraction: Extraction) -> pa.Table:
    """One record per non-blank row when the mapping cannot be applied at all (or the file is
    not the agreed template); blank rows are counted as empty."""
    # The mapping's own sheet when it has one that the file has (where several mappings read
    # one file, a sheet each); the other sheets' rows are then other sheets' rows.
    sheet = header.sheet if header else None
    if sheet is None and mapping is not None and mapping.reader.sheet is not None and \
            con.execute("select count(*) from raw where submission_id = ? and sheet = ?",
                        [submission.submission_id, mapping.reader.sheet]).fetchall()[0][0]:
        sheet = mapping.reader.sheet
    sheet_filter = f"submission_id = {literal(submission.submission_id)} and " + (
        f"sheet = {literal(sheet)} and " if sheet is not None else "")
    partner_source = literal("column" if mapping and mapping.partner.column else "folder")
    table = con.sql(f"""
        select {literal(submission.submission_id)} as submission_id,
            {literal(mapping.name) if mapping else 'null::varchar'} as mapping_name,
            sheet, row_number, null::varchar as column_name,
            {partner_source} as partner_source,
            null::varchar as partner_text, null::varchar as unit_text,
            null::varchar as report_text, null::varchar as dedupe_text,
            null::varchar as period_text, null::date as period_start,
            null::varchar as period_source,
            null::varchar as place_text, null::varchar as indicator_text,
            null::varchar as value_text, false as is_withdrawal, null::varchar as combo_text,
            []::struct(dimension varchar, text varchar)[] as disaggregation_text,
            {literal(problem)} as problem,
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
    if sheet is not None:  # titles and the header above, other sheets beside
        extraction.structure_rows, extraction.other_sheet_rows = con.execute(
            "select count(*) filter (where sheet = ? and row_number <= ?), "
            "count(*) filter (where sheet <> ?) from raw where submission_id = ?",
            [sheet, after_row, sheet, submission.submission_id]).fetchall()[0]
    return table


def load_extraction(paths: ProjectPaths, submission_id: str) -> Extraction | None:
    state = paths.submission_dir(submission_id) / EXTRACT_FILE
    if not state.exists():
        return None
    return Extraction(**json.loads(state.read_text(encoding="utf-8")))


def records_files(paths: ProjectPaths) -> list[Path]:
    return sorted(paths.landed_dir.glob(f"*/{RECORDS_FILE}"))
