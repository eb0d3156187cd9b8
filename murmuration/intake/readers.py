"""Read any partner file into a grid of raw cells, kept as text, without interpreting it.

Every reader returns an Arrow table with one row per source row: ``sheet``, ``row_number``
(1-based, as a partner would count it) and ``cells`` (a list of text, null for an empty cell).
Readers are vectorised (DuckDB's CSV and JSON readers, fastexcel's Rust Excel reader), never a
Python loop over rows.
"""

from __future__ import annotations

import json
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import fastexcel
import numpy as np
import pyarrow as pa
from charset_normalizer import from_bytes

from murmuration.intake.reasons import (
    EMPTY,
    JSON_NO_VALUES,
    JSON_NOT_DHIS2,
    UnreadableFile,
    explain,
    named_as,
    not_text,
    sniff_kind,
    unclosed_quote_reason,
)
from murmuration.registry.mapping import FileFormat

GRID_SCHEMA = pa.schema([
    ("sheet", pa.string()),
    ("row_number", pa.int64()),
    ("cells", pa.list_(pa.string())),
])


def scratch_connection() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB connection per thread, reused by every reader and extraction
    (opening a connection costs about 25 ms: more than reading a typical partner file)."""
    con = getattr(_LOCAL, "con", None)
    if con is None:
        con = _LOCAL.con = duckdb.connect()
    return con


_LOCAL = threading.local()


@dataclass
class Grid:
    """Raw rows of one file plus what was learned while reading it."""

    table: pa.Table
    details: dict = field(default_factory=dict)


def read_grid(path: Path, file_format: FileFormat, encoding: str | None = None) -> Grid:
    """The file's cells, or ``UnreadableFile`` with a reason for the partner and the engine's
    words as its detail (murmuration.intake.reasons, the one place that words them)."""
    try:
        size = path.stat().st_size
        if size == 0:
            raise UnreadableFile(EMPTY, "0 bytes")
        if size <= 4096 and not path.read_bytes().strip():
            raise UnreadableFile(EMPTY, f"{size} bytes, all blank")
        if file_format is FileFormat.CSV:
            return read_csv_grid(path, encoding)
        if file_format is FileFormat.EXCEL:
            return read_excel_grid(path)
        if file_format is FileFormat.DHIS2_JSON:
            return read_dhis2_json_grid(path)
    except UnreadableFile:
        raise
    except Exception as error:  # noqa: BLE001 - every engine error gets a reason, none escapes
        explanation = explain(error, file_format, path)
        raise UnreadableFile(explanation.reason, explanation.detail) from error
    raise UnreadableFile(f"the file could not be read: no reader for {file_format!r}")


# --- CSV -------------------------------------------------------------------------------------

def detect_encoding(data: bytes) -> str:
    """UTF-8 when the bytes decode as UTF-8. Otherwise charset detection decides, with one
    preference: Windows-1252 (a superset of Latin-1, what spreadsheet software in Western
    languages writes) wins whenever it reads the bytes about as cleanly as the best guess, because
    on short files several single-byte code pages are indistinguishable to a detector."""
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    sample = data[:1_000_000]
    best = from_bytes(sample).best()
    western = from_bytes(sample, cp_isolation=["cp1252"]).best()
    if western is not None and (best is None or western.chaos <= best.chaos + 0.1):
        return "cp1252"
    if best is None:
        raise UnreadableFile(not_text(Path("file.csv")),
                             "no text encoding recognised (charset_normalizer found none)")
    return best.encoding


CONTROL_BYTES = bytes([*range(0, 9), 11, 12, *range(14, 32)])


def _binary(sample: bytes) -> bool:
    """More than 1 % control characters (NUL, ...), and not UTF-16/32 text: not a CSV."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    controls = len(sample) - len(sample.translate(None, CONTROL_BYTES))
    if controls <= len(sample) // 100:
        return False
    best = from_bytes(sample[:100_000]).best()
    return best is None or not best.encoding.startswith(("utf_16", "utf_32"))


def _max_fields(data: bytes, delimiter: str) -> int:
    """An upper bound on fields per line (quoted delimiters only over-count), vectorised."""
    if not data:
        return 1
    raw = np.frombuffer(data, dtype=np.uint8)
    delimiters = np.cumsum(raw == ord(delimiter[0]), dtype=np.int64)
    line_ends = np.append(np.flatnonzero(raw == 10), raw.size - 1)
    per_line = np.diff(np.concatenate(([0], delimiters[line_ends])))
    return int(per_line.max()) + 1


def read_csv_grid(path: Path, encoding: str | None = None) -> Grid:
    data = path.read_bytes()
    if not data.strip():
        raise UnreadableFile(EMPTY, f"{len(data)} bytes, all blank")
    kind = sniff_kind(data[:4096])
    if kind in ("zip", "ole", "pdf", "picture") or _binary(data[:1_000_000]):
        raise UnreadableFile(named_as(path, kind, FileFormat.CSV) if kind else not_text(path),
                             f"not text: the file starts with {data[:8]!r}")
    try:
        encoding = encoding or detect_encoding(data)
    except UnreadableFile as error:
        raise UnreadableFile(not_text(path), error.detail) from error
    details: dict = {"encoding": encoding}
    with tempfile.TemporaryDirectory(prefix="murmuration-csv-") as scratch:
        source = path
        if encoding != "utf-8":
            # DuckDB reads UTF-8; other encodings are transcoded once, losslessly.
            source = Path(scratch) / "utf8.csv"
            try:
                text = data.decode(encoding)
            except (UnicodeDecodeError, LookupError) as error:
                raise UnreadableFile(
                    f"the file is not text in the encoding agreed for it ({encoding}): open it in "
                    "a spreadsheet, save it again as CSV (UTF-8) and send the new file",
                    f"{type(error).__name__}: {error}") from error
            source.write_text(text, encoding="utf-8")
            data = source.read_bytes()
        con = scratch_connection()
        dialect = con.execute(
            "select Delimiter, Quote, Escape from sniff_csv(?, null_padding = true, "
            "strict_mode = false, comment = '')", [str(source)]).fetchall()[0]
        delimiter = dialect[0] if dialect[0] != "(empty)" else ","
        quote = dialect[1] if dialect[1] not in ("(empty)", "") else '"'
        escape = dialect[2] if dialect[2] not in ("(empty)", "") else quote
        _check_quotes(data, delimiter, quote, escape)
        width = _max_fields(data, delimiter)
        columns = {f"c{i:04d}": "VARCHAR" for i in range(width)}
        relation = con.read_csv(
            str(source), header=False, auto_detect=False, columns=columns,
            delimiter=delimiter, quotechar=quote, escapechar=escape, null_padding=True,
            parallel=False, strict_mode=True, comment="")
        table = relation.select(f"list_value({', '.join(columns)}) as cells").to_arrow_table()
    details.update({"delimiter": delimiter, "quote": quote, "bom": data.startswith(b"\xef\xbb\xbf")})
    return Grid(_grid(table.column("cells"), sheet=""), details)


def _check_quotes(data: bytes, delimiter: str, quote: str, escape: str) -> None:
    """A quoted field that is never closed would swallow every line after it (DuckDB reads them
    as one cell, or drops them): refuse the file and say on which line the quote opens."""
    if escape != quote or len(quote) != 1:
        return
    mark = quote.encode()
    if data.count(mark) % 2 == 0:
        return
    position = data.rfind(mark)  # quotes pair up in order: the last one is the unpaired one
    before = data[max(0, position - len(delimiter.encode())):position]
    opens_a_field = position == 0 or data[position - 1:position] in (b"\n", b"\r") or \
        before == delimiter.encode() or data[:position] == b"\xef\xbb\xbf"
    if opens_a_field:
        line = data.count(b"\n", 0, position) + 1
        raise UnreadableFile(unclosed_quote_reason(line),
                             f"odd number of {quote} characters; the last, at byte {position} "
                             f"(line {line}), opens a field that never closes")


# --- Excel -----------------------------------------------------------------------------------

def read_excel_grid(path: Path) -> Grid:
    workbook = fastexcel.read_excel(path)  # its errors are worded by read_grid (reasons)
    tables = []
    for name in workbook.sheet_names:
        # skip_rows=0 keeps leading empty rows, so row numbers match what the partner sees.
        sheet = workbook.load_sheet(name, header_row=None, skip_rows=0, dtypes="string")
        raw = sheet.to_arrow()
        if raw.num_columns == 0 or raw.num_rows == 0:
            continue
        cells = pa.StructArray.from_arrays(
            [c.cast(pa.string()) for c in raw.columns], names=[f"c{i}" for i in range(raw.num_columns)])
        as_lists = _struct_to_lists(cells, raw.num_columns)
        tables.append(_grid(as_lists, sheet=name))
    details = {"sheets": list(workbook.sheet_names)}
    if not tables:
        return Grid(GRID_SCHEMA.empty_table(), details)
    return Grid(pa.concat_tables(tables), details)


def _struct_to_lists(cells: pa.StructArray, width: int) -> pa.ListArray:
    """Turn ``width`` columns into one list column without a Python loop over rows."""
    flat = pa.concat_arrays([cells.field(i) for i in range(width)])
    rows = len(cells)
    # Interleave: element j of row r sits at position j * rows + r in ``flat``.
    order = (np.arange(width)[None, :] * rows + np.arange(rows)[:, None]).ravel()
    offsets = pa.array(np.arange(0, rows * width + 1, width, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, flat.take(pa.array(order)))


# --- DHIS2 dataValueSets JSON ----------------------------------------------------------------

# The fields DHIS2 itself writes (dataValueSets and analytics responses): part of the exchange
# format, so never "unknown columns" of a partner's template.
DHIS2_FIELDS = frozenset({
    "dataelement", "period", "orgunit", "categoryoptioncombo", "attributeoptioncombo", "value",
    "storedby", "created", "lastupdated", "followup", "comment", "deleted", "dx", "pe", "ou",
    "co", "ao", "numerator", "denominator", "factor", "multiplier", "divisor"})


def read_dhis2_json_grid(path: Path) -> Grid:
    """A DHIS2 export as a grid, values as the text written in the file (DuckDB's JSON
    functions, not a typed reader, so dates and numbers are not reinterpreted):

    * ``dataValueSets``: one row per data value; row 1 holds the field names, like DHIS2's CSV;
    * an analytics response (``headers`` + ``rows``): row 1 holds the header names (dx, pe, ou,
      value, ...); the ids' names from ``metaData.items`` are kept in the details.
    """
    con = scratch_connection()
    try:
        try:
            con.execute("create or replace temp table document as select json from read_json_objects(?, "
                        "format = 'auto', maximum_object_size = 2147483647)", [str(path)])
            kind = con.execute(
                "select case when json_type(json, '$.dataValues') = 'ARRAY' then 'dataValueSet' "
                "when json_type(json, '$.rows') = 'ARRAY' and json_type(json, '$.headers') = "
                "'ARRAY' then 'analytics' end from document limit 1").fetchall()
        except duckdb.Error as error:
            explanation = explain(error, FileFormat.DHIS2_JSON, path)
            raise UnreadableFile(explanation.reason, explanation.detail) from error
        kind = kind[0][0] if kind else None
        if kind == "analytics":
            return _analytics_grid(con)
        if kind != "dataValueSet":
            raise UnreadableFile(JSON_NOT_DHIS2, "no top-level 'dataValues' array, nor "
                                 "'headers' and 'rows' arrays")
        con.execute(
            "create or replace temp table item as select unnest(v) as item, generate_subscripts(v, 1) as n "
            "from (select json_extract(json, '$.dataValues[*]') as v from document)")
        fields = [row[0] for row in con.execute(
            "select k from (select unnest(json_keys(item)) as k, "
            "generate_subscripts(json_keys(item), 1) as position, n from item) "
            "group by k order by min(n), min(position)").fetchall()]
        if not fields:
            raise UnreadableFile(JSON_NO_VALUES, "'dataValues' is an empty array")
        table = con.sql(
            "select list_value(" + ", ".join(f"item->>{_sql_text(f)}" for f in fields)
            + ") as cells from item order by n").to_arrow_table()
    finally:
        con.execute("drop table if exists document")
        con.execute("drop table if exists item")
    return Grid(_with_header(fields, table.column("cells"), "dataValues"), {"fields": fields})


def _analytics_grid(con) -> Grid:
    fields = [row[0] for row in con.execute(
        "select coalesce(h->>'name', h->>'column') from (select unnest(json_extract(json, "
        "'$.headers[*]')) as h from document)").fetchall()]
    table = con.sql(
        "select json_extract_string(r, '$[*]') as cells from (select unnest(v) as r, "
        "generate_subscripts(v, 1) as n from (select json_extract(json, '$.rows[*]') as v "
        "from document)) order by n").to_arrow_table()
    items = con.execute("select json_extract(json, '$.metaData.items') from document"
                        ).fetchall()[0][0]
    names = {key: (value or {}).get("name") for key, value in json.loads(items or "{}").items()
             if isinstance(value, dict) and value.get("name")}
    return Grid(_with_header(fields, table.column("cells"), "rows"),
                {"fields": fields, "item_names": names})


def _with_header(fields: list[str], cells, sheet: str) -> pa.Table:
    header = pa.array([list(fields)], type=pa.list_(pa.string()))
    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks() if cells.num_chunks else pa.array([], header.type)
    return _grid(pa.concat_arrays([header, cells.cast(header.type)]), sheet=sheet)


# --- helpers ---------------------------------------------------------------------------------

def _grid(cells, sheet: str, first_row: int = 1) -> pa.Table:
    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks()
    rows = len(cells)
    return pa.table({
        "sheet": pa.array([sheet] * rows, pa.string()) if rows else pa.array([], pa.string()),
        "row_number": pa.array(np.arange(first_row, first_row + rows, dtype=np.int64)),
        "cells": cells.cast(pa.list_(pa.string())),
    }, schema=GRID_SCHEMA)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"

