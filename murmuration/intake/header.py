"""Find a mapping's header row (and an HXL hashtag row under it) and where each column is.

Pure functions on the first rows of a sheet; the rows themselves stay in DuckDB.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from murmuration.registry.loader import normalise
from murmuration.registry.mapping import ColumnRef, Mapping, alternatives

# An HXL hashtag: '#' then the tag at once (no space: '# of beneficiaries' is a header text),
# then attributes, each '+name' (spaces around the '+' allowed).
HXL_TAG = re.compile(r"^#[a-z][a-z0-9_]*(\s*\+\s*[a-z][a-z0-9_]*)*$", re.IGNORECASE)


def hxl_parts(text: str) -> tuple[str, frozenset[str]] | None:
    """'#org +impl' -> ('org', {'impl'}); None when the text is not an HXL hashtag."""
    stripped = str(text or "").strip()
    if not HXL_TAG.match(stripped):
        return None
    tag, *attributes = re.sub(r"\s+", "", stripped)[1:].lower().split("+")
    return tag, frozenset(attributes)


def is_hxl_row(cells: list[str | None]) -> bool:
    """A row of HXL hashtags: at least two hashtags, and most of its non-empty cells are
    hashtags (one header text that starts with '#' does not make a tag row)."""
    filled = [c for c in cells if c is not None and str(c).strip()]
    tags = sum(hxl_parts(c) is not None for c in filled)
    return tags >= min(2, len(filled)) and tags * 2 > len(filled)


@functools.lru_cache(maxsize=4096)
def _normalised_option(option: str) -> str:
    """A mapping's column name as header texts are compared (the same few for every file)."""
    return normalise(option)


@dataclass
class Header:
    sheet: str
    row_number: int
    data_after: int  # the last structural row (the header, or the HXL row under it)
    texts: list[str]
    tags: list[str] = field(default_factory=list)
    hxl: list[tuple[int, tuple[str, frozenset[str]]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Each header text normalised once (matching asks for every column of every option).
        self._keys = [normalise(text) if text.strip() else None for text in self.texts]

    def matches(self, option: str) -> list[int]:
        """Every position a header text or an HXL pattern matches, left to right."""
        pattern = hxl_parts(option) if option.strip().startswith("#") else None
        if pattern is not None:
            return [position for position, (tag, attributes) in self.hxl
                    if tag == pattern[0] and pattern[1] <= attributes]
        key = _normalised_option(option)
        return [position for position, found in enumerate(self._keys, start=1) if found == key]

    def matches_any(self, reference: ColumnRef | None) -> list[int]:
        """Every position any alternative of ``reference`` matches."""
        return sorted({p for option in alternatives(reference) for p in self.matches(option)})

    def position(self, reference: ColumnRef | None) -> int | None:
        """1-based position of the first alternative present, by header text or HXL pattern."""
        for option in alternatives(reference):
            found = self.matches(option)
            if found:
                return found[0]
        return None

    def ambiguity(self, reference: ColumnRef | None) -> str | None:
        """A warning when the alternative used matches more than one column."""
        for option in alternatives(reference):
            found = self.matches(option)
            if len(found) > 1:
                return (f"{option!r} matches {len(found)} columns "
                        f"({', '.join(repr(self.label(p)) for p in found[:5])}); the first is "
                        "used - name the column more precisely")
            if found:
                return None
        return None

    def label(self, position: int) -> str:
        """How a partner would name the column: its header text (or its hashtag)."""
        text = self.texts[position - 1] if position <= len(self.texts) else ""
        if text:
            return " ".join(text.split())
        tag = self.tags[position - 1] if position <= len(self.tags) else ""
        return tag or f"column {position}"


def build_header(sheet: str, row_number: int, cells: list, next_cells: list | None) -> Header:
    texts = [str(c) if c is not None else "" for c in cells]
    tags: list[str] = []
    data_after = row_number
    if next_cells is not None and is_hxl_row(next_cells):
        tags = [str(c) if c is not None else "" for c in next_cells]
        data_after = row_number + 1
    hxl = [(position, parts) for position, text in enumerate(tags, start=1)
           if (parts := hxl_parts(text)) is not None]
    return Header(sheet, row_number, data_after, texts, tags, hxl)


def required_references(mapping: Mapping) -> dict[str, ColumnRef]:
    """Columns that must all be found for a row to be the header."""
    references = dict(mapping.columns.roles())
    if mapping.partner.column:
        references["partner"] = mapping.partner.column
    if mapping.reporting_unit is not None and mapping.reporting_unit.column:
        references["reporting_unit"] = mapping.reporting_unit.column
    for n, reference in enumerate(mapping.dedupe_by):
        references[f"dedupe_by[{n}]"] = reference
    for n, reference in enumerate(mapping.distinct_reports_by):
        references[f"distinct_reports_by[{n}]"] = reference
    return references


def find_header(rows_by_sheet: dict[str, list[tuple[int, list]]], mapping: Mapping
                ) -> tuple[Header | None, str | None]:
    """The first row (in the configured sheet, or any sheet in order) naming every column."""
    required = required_references(mapping)
    sheets = list(rows_by_sheet)
    if mapping.reader.sheet is not None:
        if mapping.reader.sheet not in rows_by_sheet:
            return None, (f"sheet '{mapping.reader.sheet}' was not found; the workbook has "
                          f"{', '.join(repr(s) for s in sheets) or 'no sheets'}")
        sheets = [mapping.reader.sheet]
    fixed_row = mapping.reader.header_row if mapping.reader.header_row != "auto" else None
    for sheet in sheets:
        rows = rows_by_sheet[sheet]
        for index, (row_number, cells) in enumerate(rows):
            if fixed_row is not None and row_number != fixed_row:
                continue
            following = rows[index + 1][1] if index + 1 < len(rows) else None
            header = build_header(sheet, row_number, cells, following)
            if all(header.position(ref) is not None for ref in required.values()):
                fixed = mapping.fixed_value_columns
                by_header = any(v.period_headers for v in mapping.values)
                if fixed and not by_header and \
                        not any(header.position(v.column) for v in fixed):
                    continue
                return header, None
    wanted = ", ".join(" or ".join(repr(a) for a in alternatives(ref))
                       for ref in required.values())
    where = f"row {fixed_row}" if fixed_row else "the first rows"
    in_sheets = " or ".join(repr(s) for s in sheets) if sheets and sheets[0] else "the file"
    return None, f"the header row was not found: no row in {where} of {in_sheets} names all of {wanted}"
