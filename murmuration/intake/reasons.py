"""Why a received file could not be read, in words a partner can act on.

The one place that turns what a reader or an engine says (DuckDB's CSV and JSON readers,
fastexcel/calamine, Python's decoders) into a *reason* for the partner ("the workbook is damaged:
open it in Excel and save it again as .xlsx") and keeps what the engine said as a *detail* for the
data team. A reason never quotes an engine; a detail is never shown to a partner.

Every reason starts with a lower-case word and has no final full stop, like the other reasons the
pipeline gives (quarantine reasons, ignored files), so it reads well in a table or after a file
name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from murmuration.registry.mapping import FileFormat

# What the partner should do, reused so the same problem always reads the same way.
RESEND = "send the new file"
SAVE_AS_CSV = "save it again as CSV (UTF-8)"
SAVE_AS_XLSX = "open it in Excel and save it again as .xlsx (Excel Workbook)"

EMPTY = "the file is empty: export the data again and send the new file"
EXCEL_DAMAGED = ("the workbook is damaged (it was probably cut short while being saved or sent): "
                 f"{SAVE_AS_XLSX}, then {RESEND}")
EXCEL_NOT_EXCEL = f"the workbook is damaged or is not an Excel file: {SAVE_AS_XLSX}"
EXCEL_PROTECTED = ("the workbook is password-protected, or damaged: remove the password, "
                   f"{SAVE_AS_XLSX.removeprefix('open it in Excel and ')}, then {RESEND}")
NOT_TEXT = ("the file is not text in a known encoding (it may be a spreadsheet, a picture or "
            "another kind of file named {suffix}): open it in a spreadsheet, " + SAVE_AS_CSV
            + " and " + RESEND)
JSON_CUT_SHORT = ("the file is not valid JSON: it ends before the JSON is complete (it was "
                  f"probably cut short while being saved or sent): export it again and {RESEND}")
JSON_NOT_DHIS2 = ("the file is JSON but not a DHIS2 export: it has no 'dataValues' list (nor the "
                  "'headers' and 'rows' of an analytics table); export it from DHIS2 as a data "
                  f"value set in JSON and {RESEND}")
JSON_NO_VALUES = ("the file's 'dataValues' list is empty, so it reports nothing: check the "
                  "period and organisation units chosen for the export, export it again and "
                  f"{RESEND}")

FORMAT_NAMES = {FileFormat.CSV: "a CSV file", FileFormat.EXCEL: "an Excel workbook",
                FileFormat.DHIS2_JSON: "a DHIS2 JSON export"}


class UnreadableFile(Exception):
    """A file that cannot be read as the format it claims. ``reason`` is for the partner (plain
    words, what to do); ``detail`` is what the engine said, for the data team."""

    def __init__(self, reason: str, detail: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Explanation:
    reason: str
    detail: str | None


# --- what the bytes really are ---------------------------------------------------------------

def sniff_kind(head: bytes) -> str | None:
    """What a file's first bytes say it is, whatever its name, or None when they say nothing."""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"  # Excel 97-2003, or any Office file with a password
    if head.startswith(b"%PDF"):
        return "pdf"
    if head[:4] in (b"\x89PNG", b"GIF8") or head.startswith(b"\xff\xd8\xff"):
        return "picture"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<!doctype html", b"<html", b"<table")):
        return "html"
    if stripped.startswith((b"<?xml", b"<")):
        return "xml"
    if stripped.startswith((b"{", b"[")):
        return "json"
    if looks_like_text(head):
        return "text"
    return None


def looks_like_text(head: bytes) -> bool:
    """Decodes as UTF-8 (or UTF-16 with its byte-order mark) with no control characters but
    tabs and line ends: what a CSV export looks like."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not only a character cut at the sample's end
            return False
        text = head[:error.start].decode("utf-8")
    return bool(text.strip()) and not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", text)


def named_as(path: Path, kind: str, expected: FileFormat) -> str | None:
    """'the file is named .xlsx but is a PDF document, not an Excel workbook: ...'."""
    suffix = path.suffix.lower() or "(no extension)"
    what = {
        "ole": ("an Excel 97-2003 workbook (or another Office file)",
                "open it in Excel and save it as .xlsx (Excel Workbook) or as CSV (UTF-8)"),
        "zip": ("an Excel workbook (or another zipped file)",
                "send it with an .xlsx name, or save it from Excel as CSV (UTF-8)"),
        "pdf": ("a PDF document", "send the spreadsheet the figures come from, as .xlsx or .csv"),
        "picture": ("a picture", "send the spreadsheet the figures come from, as .xlsx or .csv"),
        "html": ("a web page (HTML)",
                 "open it in Excel and save it as .xlsx (Excel Workbook) or as CSV (UTF-8)"),
        "text": ("text (such as a CSV export)",
                 "send it with a .csv name, or open it in Excel and save it as .xlsx"),
        "json": ("JSON text", "send it with a .json name"),
    }.get(kind)
    if what is None:
        return None
    return f"the file is named {suffix} but is {what[0]}, not {FORMAT_NAMES[expected]}: {what[1]}"


# --- engine errors -> reasons ----------------------------------------------------------------

OUT_OF_MEMORY = ("the file is too large to read within the memory set for reading files: split "
                 "it by month (or by area), or ask the backbone to raise that memory "
                 "(MURMURATION_INTAKE_MEMORY)")


def explain(error: BaseException, file_format: FileFormat, path: Path) -> Explanation:
    """The partner's reason for ``error`` (raised reading ``path`` as ``file_format``) and the
    engine's own words as the detail."""
    if isinstance(error, UnreadableFile):
        return Explanation(error.reason, error.detail)
    detail = technical_detail(error)
    try:
        data = path.read_bytes()
    except OSError:
        return Explanation("the file could not be opened on the server; the backbone's data "
                           "team has been told", detail)
    if not data.strip():
        return Explanation(EMPTY, detail)
    if "Out of Memory" in detail:  # the file's fault only in that it is large
        return Explanation(OUT_OF_MEMORY, detail)
    if file_format is FileFormat.EXCEL:
        return Explanation(excel_reason(data, path), detail)
    if file_format is FileFormat.DHIS2_JSON:
        return Explanation(json_reason(str(error), data, path), detail)
    if file_format is FileFormat.CSV:
        return Explanation(csv_reason(str(error), data, path), detail)
    return Explanation(f"the file could not be read as {file_format.value}", detail)


def excel_reason(data: bytes, path: Path) -> str:
    kind = sniff_kind(data[:4096])
    if kind == "zip":
        return EXCEL_DAMAGED
    if kind == "ole":
        return EXCEL_PROTECTED
    return named_as(path, kind, FileFormat.EXCEL) if kind else EXCEL_NOT_EXCEL


def json_reason(message: str, data: bytes, path: Path) -> str:
    kind = sniff_kind(data[:4096])
    if kind not in (None, "json", "text"):
        named = named_as(path, kind, FileFormat.DHIS2_JSON)
        if named:
            return named
    if kind is None:
        return not_text(path)
    if "end of data" in message or "unexpected end" in message:
        return JSON_CUT_SHORT
    offset = re.search(r"at byte (\d+)", message)
    where = ""
    if offset:
        line = data.count(b"\n", 0, int(offset.group(1))) + 1
        where = f" on line {line}"
    return (f"the file is not valid JSON: there is a syntax error{where} (a missing comma, "
            "bracket or quotation mark, or text added by hand): export it again from DHIS2 "
            f"and {RESEND}")


def csv_reason(message: str, data: bytes, path: Path) -> str:
    line = re.search(r"CSV Error on Line: (\d+)", message)
    at = f" (line {line.group(1)})" if line else ""
    if "Maximum line size" in message:
        # DuckDB counts lines its own way (the line it names can be off by one): find it.
        limit = re.search(r"Maximum line size of (\d+)", message)
        longest = first_long_line(data, int(limit.group(1)) if limit else 2_000_000)
        at = f" (line {longest})" if longest else at
        return (f"a line of the file is too long to be a row of a table{at}: it is probably not "
                f"a CSV export; open it in a spreadsheet, {SAVE_AS_CSV} and {RESEND}")
    if "unterminated quote" in message.lower():
        return unclosed_quote_reason(line.group(1) if line else None)
    if "Expected Number of Columns" in message or "too many columns" in message.lower():
        return (f"the CSV's rows do not have the same number of columns{at}: look on that line "
                "for an extra separator (a comma or semicolon inside a value) or a stray "
                f"quotation mark, correct it and {RESEND}")
    if "unicode" in message.lower() or "utf-8" in message.lower():
        return not_text(path)
    return (f"the file could not be read as CSV{at}: open it in a spreadsheet, {SAVE_AS_CSV} "
            f"and {RESEND}")


def first_long_line(data: bytes, limit: int) -> int | None:
    """The number of the first line longer than ``limit`` bytes (vectorised), or None."""
    import numpy as np

    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(data)]))
    long = np.flatnonzero(stops - starts > limit)
    return int(long[0]) + 1 if long.size else None


def unclosed_quote_reason(line: int | str | None) -> str:
    at = f" on line {line}" if line else ""
    return (f"a quotation mark opened{at} is never closed, so every line after it would run "
            "into one cell: remove that quotation mark or close it (or save the file again from "
            f"the spreadsheet) and {RESEND}")


def not_text(path: Path) -> str:
    return NOT_TEXT.format(suffix=path.suffix.lower() or "(no extension)")


# What a partner may send, in their words.
READ_FORMATS = "CSV, Excel (.xlsx, .xlsm, .xls, .xlsb), OpenDocument (.ods) or DHIS2 JSON"


def unsupported_extension(suffix: str) -> str:
    return f"files ending in '{suffix or '(no extension)'}' are not read; send {READ_FORMATS}"


def technical_detail(error: BaseException) -> str:
    """What the engine said, for the data team: its kind and first lines, without the copy of
    the partner's line DuckDB adds (it can be megabytes) or the reader's option dump."""
    lines = []
    for raw in str(error).strip().splitlines():
        line = raw.strip()
        if not line:
            if lines:
                break
            continue
        if line.startswith(("Original Line:", "Possible Solution", "Context:", "file =")) \
                or re.match(r"^\d+: ", line):
            continue
        lines.append(line)
    text = " ".join(lines) or type(error).__name__
    text = f"{type(error).__name__}: {text}"
    return text if len(text) <= 500 else text[:497] + "..."


# --- limits (docs/judging.md, "Limits") ------------------------------------------------------

RAISE_LIMIT = "or ask the backbone to raise the limit"


class OverLimit(UnreadableFile):
    """A file over one of the initiative's limits: not read, kept as received."""


def over_limit(found: str, limit: str, name: str, action: str) -> OverLimit:
    """'the file has 3,500,000 rows, more than the limit of 1,000,000 (limits.rows in
    initiative.yaml): split it by month, or ask the backbone to raise the limit'."""
    return OverLimit(f"{found}, more than the limit of {limit} (limits.{name} in "
                     f"initiative.yaml): {action}, {RAISE_LIMIT}",
                     f"over limits.{name} ({limit}): {found}")


def megabytes(size: float) -> str:
    return f"{size:,.1f} MB" if size < 10 else f"{size:,.0f} MB"


def too_big(size_bytes: int, limit_mb: float) -> OverLimit:
    return over_limit(f"the file is {megabytes(size_bytes / 1e6)}", f"{limit_mb:g} MB", "file_mb",
                      "split it by month (or by area)")


def too_many_rows(rows: int, limit: int) -> OverLimit:
    return over_limit(f"the file has {rows:,} rows", f"{limit:,}", "rows", "split it by month")


def too_many_columns(columns: int, limit: int) -> OverLimit:
    return over_limit(f"the file has {columns:,} columns", f"{limit:,}", "columns",
                      "send only the columns of the agreed template")


def too_many_sheets(sheets: int, limit: int) -> OverLimit:
    return over_limit(f"the workbook has {sheets:,} sheets", f"{limit:,}", "sheets",
                      "send only the sheets of the agreed template")


def expands_too_much(size_bytes: int, limit_mb: float) -> OverLimit:
    """``size_bytes``: what was unzipped before counting stopped, past the limit (the workbook
    holds at least that)."""
    return over_limit(f"the workbook holds at least {megabytes(size_bytes / 1e6)} of data once "
                      "unzipped", f"{limit_mb:g} MB", "workbook_expanded_mb",
                      "delete unused sheets, rows and columns (or split it by month)")


def nested_too_deep(depth: int, limit: int) -> OverLimit:
    return over_limit(f"the JSON is nested {depth:,} levels deep", f"{limit:,}", "json_depth",
                      "export it again from DHIS2 as a data value set")


# --- partners' cells quoted in reasons -------------------------------------------------------

# Control characters as a reason shows them (tab, line ends and the rest: \t, \n, \x00, ...).
CONTROL_ESCAPES = {code: ("\\t" if code == 9 else "\\n" if code == 10 else "\\r" if code == 13
                          else f"\\x{code:02x}") for code in [*range(32), 127]}


def escape_controls(text: str) -> str:
    return text.translate(CONTROL_ESCAPES)


def shown_cell(text: str | None, limit: int) -> str:
    """A partner's cell as a reason quotes it: at most ``limit`` characters (then '… (N
    characters)'), control characters escaped (a NUL shows as \\x00)."""
    if text is None:
        return ""
    if len(text) <= limit:
        return escape_controls(text)
    return f"{escape_controls(text[:limit])}… ({len(text):,} characters)"


def shown_cell_sql(expression: str, limit: int | str) -> str:
    """The SQL twin of ``shown_cell`` (DuckDB; the dbt macro ``shown_cell`` is its copy)."""
    cut = (f"case when length({expression}) > {limit} then left({expression}, {limit}) "
           f"else {expression} end")
    for code, escaped in CONTROL_ESCAPES.items():
        cut = f"replace({cut}, chr({code}), '{escaped}')"
    return (f"({cut} || case when length({expression}) > {limit} then '… (' || "
            f"format('{{:,}}', length({expression})) || ' characters)' else '' end)")
