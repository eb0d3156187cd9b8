"""Mapping contracts: how one partner's (or one shared template's) export maps to the registry.

Onboarding a partner format is writing one of these files, never new code.
"""

from __future__ import annotations

import fnmatch
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from murmuration.registry.models import Code, Strict


class FileFormat(StrEnum):
    CSV = "csv"
    EXCEL = "excel"
    DHIS2_JSON = "dhis2_json"


EXTENSION_FORMATS = {
    ".csv": FileFormat.CSV, ".txt": FileFormat.CSV, ".tsv": FileFormat.CSV,
    ".xlsx": FileFormat.EXCEL, ".xlsm": FileFormat.EXCEL, ".xls": FileFormat.EXCEL,
    ".json": FileFormat.DHIS2_JSON,
}


class Layout(StrEnum):
    LONG = "long"
    WIDE = "wide"


class AppliesTo(Strict):
    folders: list[str] = Field(min_length=1, description="inbox sub-folders this mapping reads")
    files: list[str] = Field(["*"], description="file name patterns, e.g. '*.csv'")

    def matches(self, folder: str, file_name: str) -> bool:
        return folder in self.folders and any(
            fnmatch.fnmatch(file_name.lower(), pattern.lower()) for pattern in self.files)


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
    period: ColumnRef
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
    """One column of a wide table: which indicator (and disaggregation) its cells report. With
    no indicator, the row's indicator column says which indicator the cell belongs to."""

    column: ColumnRef
    indicator: Code | None = None
    disaggregation: dict[Code, str] = {}


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
    QUARANTINE = "quarantine"
    SUM = "sum"


SPECIAL_PERIOD_FORMATS = {
    "excel_serial": "an Excel day number, e.g. 44165",
    "iso_week": "an ISO week, e.g. 2023W16 or 2023-W16",
    "week_year": "a week number then a year, e.g. W36 2019",
}


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
    period_formats: list[str] = Field(
        ["%Y-%m", "%Y%m", "%Y-%m-%d", "%b %Y", "%B %Y"],
        description="tried in order on the period text: strptime formats, or "
                    + ", ".join(SPECIAL_PERIOD_FORMATS))
    period_default_year: int | None = Field(
        None, ge=1900, le=2200, description="the year for period texts that give none "
                                            "(month names)")
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
    duplicate_keys: DuplicateKeys = Field(
        DuplicateKeys.QUARANTINE,
        description="rows repeating a key in one file: quarantine them, or sum them (one row "
                    "per site, say)")
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
            if any(v.indicator is None for v in self.values) and not self.columns.indicator:
                raise ValueError("a value column without an indicator needs columns.indicator")
        for role, source in self.resolve_ids.items():
            if source is not IdSource.EMBEDDED and source not in self.metadata_files:
                raise ValueError(f"resolve_ids.{role} uses {source.value}: list its file "
                                 "under metadata_files")
        return self

    def format_for(self, file_name: str) -> FileFormat | None:
        if self.reader.format:
            return self.reader.format
        suffix = "." + file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
        return EXTENSION_FORMATS.get(suffix)
