"""Mapping contracts: how one partner's (or one shared template's) export maps to the registry.

Onboarding a partner format is writing one of these files, never new code.
"""

from __future__ import annotations

import fnmatch
import re
from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator, model_validator

from murmuration.registry.models import Code, CompleteReturn, Strict
from murmuration.registry.periods import DEFAULT_FORMATS, SPECIAL_FORMATS


class FileFormat(StrEnum):
    CSV = "csv"
    EXCEL = "excel"
    DHIS2_JSON = "dhis2_json"


EXTENSION_FORMATS = {
    ".csv": FileFormat.CSV, ".txt": FileFormat.CSV, ".tsv": FileFormat.CSV,
    ".xlsx": FileFormat.EXCEL, ".xlsm": FileFormat.EXCEL, ".xls": FileFormat.EXCEL,
    ".xlsb": FileFormat.EXCEL, ".ods": FileFormat.EXCEL,  # calamine reads them all
    ".json": FileFormat.DHIS2_JSON,
}


class Layout(StrEnum):
    LONG = "long"
    WIDE = "wide"


class AppliesTo(Strict):
    folders: list[str] = Field(min_length=1, description="inbox sub-folders this mapping reads")
    files: list[str] = Field(["*"], description="file name patterns, e.g. '*.csv'")

    def matches(self, folder: str, file_name: str) -> bool:
        """The folder is one of the mapping's and the name fits a pattern; a pattern for
        ``.xlsx`` covers the same name as ``.xlsm`` too (the same workbook with macros, which
        are never run: partners' templates often carry a macro button)."""
        name = file_name.lower()
        if name.endswith(".xlsm"):
            name = name[:-len(".xlsm")] + ".xlsx"
        return folder in self.folders and any(
            fnmatch.fnmatch(name, pattern.lower()) or fnmatch.fnmatch(file_name.lower(),
                                                                      pattern.lower())
            for pattern in self.files)


class Reader(Strict):
    format: FileFormat | None = Field(None, description="default: from the file extension")
    sheet: str | None = Field(None, description="Excel sheet name; default: the first sheet "
                                                "whose header matches")
    encoding: str | None = Field(None, description="CSV text encoding (e.g. cp1252); default: "
                                                   "detected")
    header_row: int | str = Field(
        "auto", description="1-based row holding the column names, or 'auto' to find it")

    @field_validator("header_row")
    @classmethod
    def _header(cls, value):
        if isinstance(value, str) and value != "auto":
            raise ValueError("header_row is a row number (1 = first row) or 'auto'")
        if isinstance(value, int) and value < 1:
            raise ValueError("header_row counts from 1")
        return value


class PartnerSource(Strict):
    """Where the reporting partner comes from: the inbox folder, or a column resolved by alias."""

    column: str | None = None

    @property
    def from_folder(self) -> bool:
        return self.column is None


ColumnRef = str | list[str]
"""A column: its header text, an HXL tag pattern ('#adm1+name'), or a list of alternatives
(template versions that renamed the column); the first alternative present is used."""


def alternatives(reference: ColumnRef | None) -> list[str]:
    if reference is None:
        return []
    return [reference] if isinstance(reference, str) else list(reference)


class Columns(Strict):
    period: ColumnRef | None = None
    value: ColumnRef | None = None
    indicator: ColumnRef | None = None
    place: ColumnRef | None = None
    combo: ColumnRef | None = Field(
        None, description="a column whose code stands for several disaggregations (DHIS2 "
                          "category option combo); resolved through `combos`")
    disaggregations: dict[Code, ColumnRef] = {}

    def roles(self) -> dict[str, ColumnRef]:
        """Every column the mapping needs, by role name (disaggregations by dimension code)."""
        found = {role: getattr(self, role) for role in ("period", "value", "indicator", "place",
                                                        "combo")}
        found.update(self.disaggregations)
        return {role: ref for role, ref in found.items() if ref}


class ValueColumn(Strict):
    r"""One column of a wide table: which indicator (and disaggregation) its cells report. With
    no indicator, the row's indicator column says which indicator the cell belongs to.

    Periods as columns (Jan ... Dec): ``period_headers: true`` stands for every column whose
    header reads as a period (by the mapping's period formats and month names, the year from
    ``period_default_year`` or the file's name when the header gives none), or a regular
    expression whose group ``period`` is the period part of the header (``'^(?P<period>\w+)
    girls$'``); ``period`` gives one column's period."""

    column: ColumnRef | None = None
    period_headers: bool | str = Field(
        False, description="true: every column whose header is a period; or a regex with a "
                           "group named period")
    period: str | None = Field(None, description="the period of this column's cells, as "
                                                 "written (e.g. 2025-01 or Jan 2025)")
    indicator: Code | None = None
    disaggregation: dict[Code, str] = {}

    @model_validator(mode="after")
    def _one_source(self):
        if (self.column is None) == (not self.period_headers):
            raise ValueError("give column (one value column) or period_headers (every column "
                             "whose header is a period), not both")
        if isinstance(self.period_headers, str):
            try:
                pattern = re.compile(self.period_headers)
            except re.error as error:
                raise ValueError(f"period_headers {self.period_headers!r} is not a regular "
                                 f"expression ({error})") from None
            if "period" not in pattern.groupindex:
                raise ValueError("period_headers needs a group named period, e.g. "
                                 "'^(?P<period>\\w+) girls$'")
        if self.period and self.period_headers:
            raise ValueError("period is for one column; period_headers reads it from each "
                             "header")
        return self

    @property
    def header_pattern(self) -> re.Pattern | None:
        """The regex picking the period out of a header (None: the whole header, or none)."""
        return re.compile(self.period_headers, re.IGNORECASE) \
            if isinstance(self.period_headers, str) else None


class RowRule(Strict):
    """Rows told apart by one cell: quarantined (counted) with the reason given."""

    column: str = Field(description="a role (place, indicator, period, partner) or a header text")
    values: list[str] = Field(min_length=1)
    reason: str | None = None


class IdSource(StrEnum):
    DATA_ELEMENTS = "data_elements"
    CATEGORY_OPTION_COMBOS = "category_option_combos"
    ORG_UNITS = "org_units"
    EMBEDDED = "embedded"


class DuplicateKeys(StrEnum):
    """How rows repeating a key (in one file, or within one site of dedupe_by) combine."""

    QUARANTINE = "quarantine"  # the first row counts; the later ones are quarantined
    SUM = "sum"                # they add up (one row per site, say)
    MAX = "max"                # the largest counts (activities at one site reach the same people)
    FIRST = "first"            # the first (in the file's order, then the earliest file) counts


class ReportingUnitSource(Strict):
    """Where a partner's reporting unit (zone office, project, implementing partner) is named:
    a column, the sub-folder below the partner's inbox folder, or a part of the file name (a
    regular expression with a group named ``unit``). Each unit's files replace only that unit's
    earlier files."""

    column: ColumnRef | None = None
    folder: bool = Field(False, description="the sub-folder below the inbox folder names it")
    file_name: str | None = Field(None, description="regex with a group (?P<unit>...)")

    @model_validator(mode="after")
    def _one_source(self):
        given = [self.column is not None, self.folder, self.file_name is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of column, folder: true or file_name")
        if self.file_name is not None:
            try:
                pattern = re.compile(self.file_name)
            except re.error as error:
                raise ValueError(f"file_name {self.file_name!r} is not a regular expression "
                                 f"({error})") from None
            if "unit" not in pattern.groupindex:
                raise ValueError("file_name needs a group named unit, e.g. "
                                 "'^(?P<unit>[^_]+)_'")
        return self

    def from_file_name(self, file_name: str) -> str | None:
        match = re.search(self.file_name, file_name) if self.file_name else None
        return match["unit"] if match and match["unit"] else None



class Mapping(Strict):
    name: Code
    description: str = ""
    applies_to: AppliesTo
    reader: Reader = Reader()
    layout: Layout = Layout.LONG
    partner: PartnerSource = PartnerSource()
    columns: Columns
    values: list[ValueColumn] = []
    fixed: dict[str, str] = Field({}, description="constant codes for every row, e.g. place: all")
    period_formats: list[str] | None = Field(
        None,
        description="tried in order on the period text: strptime formats, or "
                    + ", ".join(SPECIAL_FORMATS) + "; month names in English, Spanish, French "
                    "and Portuguese are understood without a format. Default: "
                    + "; ".join(f"{kind}s {', '.join(formats)}"
                                for kind, formats in DEFAULT_FORMATS.items()))
    period_default_year: int | None = Field(
        None, ge=1900, le=2200, description="the year for period texts that give none "
                                            "(month names)")
    period_fallback: list[Literal["sheet_name", "file_name"]] = Field(
        [], description="where to read the period when the period cell is empty (or there is "
                        "no period column): the sheet's name, the file's name, in order")
    reporting_unit: ReportingUnitSource | None = Field(
        None, description="where the partner's reporting unit is named, when it sends "
                          "complementary files per office, project or implementing partner")
    ignore_columns: list[ColumnRef] = Field(
        [], description="columns of the agreed template that are deliberately not read (they "
                        "do not count as unknown columns)")
    max_unknown_columns: int | None = Field(
        None, ge=0, description="a file with more header columns the mapping does not know is "
                                "not the agreed template (default: as many as it knows)")
    withdraw_values: list[str] = Field(
        ["withdrawn"], description="a value cell saying one of these withdraws the value sent "
                                   "before for that key (see docs/judging.md, What a "
                                   "submission replaces)")
    codes: dict[str, dict[str, str]] = Field(
        {}, description="per role or disaggregation: partner's text -> registry code")
    combos: dict[str, dict[Code, str]] = {}
    units: dict[Code, str] = Field(
        {}, description="indicator -> the unit this partner reports it in (converted "
                        "through the registry's unit conversions)")
    summary_rows: list[RowRule] = Field(
        [], description="rows that are totals, not data: counted and quarantined")
    require_rows: list[RowRule] = Field(
        [], description="rows whose cell is not one of the values are quarantined")
    complete: CompleteReturn | None = Field(
        None, description="this mapping's files are complete returns for each period (or "
                          "period and indicator, or place): a key they no longer send is "
                          "withdrawn; by default a file replaces exactly the keys it sends")
    duplicate_keys: DuplicateKeys = Field(
        DuplicateKeys.QUARANTINE,
        description="rows repeating a key (within one site of dedupe_by): quarantine the "
                    "later ones, sum them, or keep the largest (max) or the first; the ones "
                    "not counted are shown as deduplicated, not errors")
    dedupe_by: list[ColumnRef] = Field(
        [], description="the columns naming one site (or beneficiary group): rows of one key "
                        "at different sites add up, rows of one site combine by "
                        "duplicate_keys (the 3W/4W rule: max per site and month, summed "
                        "across sites)")
    distinct_reports_by: list[ColumnRef] = Field(
        [], description="columns (project, donor, lead organisation) whose values make two "
                        "rows - and two files - different reports of the partner: they add up "
                        "and replace each other only for the same values")
    empty_values: list[str] = Field(
        ["-", "--", "n/a", "N/A", "nil"],
        description="value cells that mean 'reported nothing' (like an empty cell), not a "
                    "number that is wrong")
    resolve_ids: dict[str, IdSource] = Field(
        {}, description="role -> where the names of the ids in that column come from (DHIS2 "
                        "metadata files, or 'embedded' in an analytics response)")
    metadata_files: dict[IdSource, str] = Field(
        {}, description="DHIS2 metadata export per kind, relative to the initiative folder")

    @model_validator(mode="after")
    def _layout(self):
        if self.layout is Layout.LONG:
            if not self.columns.value:
                raise ValueError("a long layout needs columns.value")
            if not (self.columns.indicator or "indicator" in self.fixed):
                raise ValueError("a long layout needs columns.indicator or fixed.indicator")
            if self.values:
                raise ValueError("`values` lists the value columns of a wide layout; "
                                 "set layout: wide or remove it")
        else:
            if not self.values:
                raise ValueError("a wide layout needs `values`: one entry per value column")
            if self.columns.value:
                raise ValueError("a wide layout takes values from `values`, not columns.value")
            if self.columns.period and any(v.period_headers or v.period for v in self.values):
                raise ValueError("the period comes from the value columns' headers here: "
                                 "remove columns.period")
            if any(v.indicator is None for v in self.values) and not self.columns.indicator:
                raise ValueError("a value column without an indicator needs columns.indicator")
        if not self.reads_period:
            raise ValueError("the period must come from somewhere: columns.period, "
                             "fixed.period or period_fallback (sheet_name, file_name)")
        for role, source in self.resolve_ids.items():
            if source is not IdSource.EMBEDDED and source not in self.metadata_files:
                raise ValueError(f"resolve_ids.{role} uses {source.value}: list its file "
                                 "under metadata_files")
        return self

    def formats(self, period_type: str) -> list[str]:
        """The period formats this mapping reads, in order (its own, else the defaults for the
        initiative's period type)."""
        return list(self.period_formats) if self.period_formats is not None \
            else list(DEFAULT_FORMATS[period_type])

    @property
    def reads_period(self) -> bool:
        return bool(self.columns.period or "period" in self.fixed or self.period_fallback
                    or self.periods_in_columns)

    @property
    def periods_in_columns(self) -> bool:
        """Every value column gives its own period (periods as columns)."""
        return bool(self.values) and all(v.period_headers or v.period for v in self.values)

    @property
    def fixed_value_columns(self) -> list[ValueColumn]:
        """The value columns named one by one (not found by their period headers)."""
        return [v for v in self.values if v.column is not None]

    def format_for(self, file_name: str) -> FileFormat | None:
        if self.reader.format:
            return self.reader.format
        suffix = "." + file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
        return EXTENSION_FORMATS.get(suffix)
