"""CSV that is safe to open in a spreadsheet: a cell that would start a formula is neutralised.

Partners' own text goes into feedback CSVs; a cell such as ``=HYPERLINK(...)`` or ``@SUM(...)``
would run as a formula in Excel or LibreOffice (CSV injection). Such cells get a leading
apostrophe, which spreadsheets show as text. Plain numbers (``-3``, ``+4.5``) stay numbers.
Control characters other than tabs and line ends (a NUL byte, ...) are written escaped
(``\x00``): spreadsheets cut a cell at a NUL or refuse the file.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
from pathlib import Path

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$")
# Control characters written escaped; tab, line feed and carriage return are text in a cell.
CONTROLS = {code: f"\\x{code:02x}" for code in [*range(32), 127] if code not in (9, 10, 13)}


def escape_controls(text: str) -> str:
    return text.translate(CONTROLS)


def safe_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN
        return ""
    text = escape_controls(str(value))
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.match(text):
        return "'" + text
    return text


# The same characters as one RE2 class, to test a cell once before escaping each of them.
CONTROL_CLASS = "[" + "".join(f"\\x{code:02x}" for code in CONTROLS) + "]"


def escaped_controls_sql(expression: str) -> str:
    """The SQL twin of ``escape_controls`` (the replacements only for a cell that has any)."""
    escaped = expression
    for code, replacement in CONTROLS.items():
        escaped = f"replace({escaped}, chr({code}), '{replacement}')"
    return (f"case when regexp_matches({expression}, '{CONTROL_CLASS}') then {escaped} "
            f"else {expression} end")


def neutralised_formula_sql(column: str) -> str:
    """The SQL twin of ``safe_cell``'s apostrophe, for a column already escaped."""
    starts = "".join({"\t": "\\t", "\r": "\\r", "-": "\\-"}.get(c, c) for c in FORMULA_STARTS)
    number = PLAIN_NUMBER.pattern[1:-1]  # regexp_full_match anchors it already
    return (f"case when regexp_matches({column}, '^[{starts}]') and not "
            f"regexp_full_match({column}, '{number}') "
            f"then chr(39) || {column} else {column} end")


def add_byte_order_mark(path: Path) -> None:
    """Prefix the UTF-8 byte-order mark write_safe_csv writes (spreadsheets need it)."""
    temporary = path.with_suffix(path.suffix + ".bom")
    with path.open("rb") as source, temporary.open("wb") as target:
        target.write(b"\xef\xbb\xbf")
        shutil.copyfileobj(source, target, 1 << 20)
    os.replace(temporary, path)


def write_safe_csv(path: Path, header: list[str], rows) -> int:
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([safe_cell(h) for h in header])
        for row in rows:
            writer.writerow([safe_cell(v) for v in row])
            count += 1
    return count
