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


class Columns(Strict):
    period: str
    value: str | None = None
    indicator: str | None = None
    place: str | None = None
    combo: str | None = Field(
        None, description="a column whose code stands for several disaggregations (DHIS2 "
                          "category option combo); resolved through `combos`")
    disaggregations: dict[Code, str] = {}


class ValueColumn(Strict):
    """One column of a wide table: which indicator (and disaggregation) its cells report."""

    column: str
    indicator: Code
    disaggregation: dict[Code, str] = {}


class SummaryRows(Strict):
    """Rows that are not data (totals, sub-totals): counted and quarantined with this reason."""

    column: str = Field(description="a role (place, indicator, period) or a header text")
    values: list[str] = Field(min_length=1)
    reason: str = "summary row (a total), not data"


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
        description="strptime formats tried in order on the period text")
    codes: dict[str, dict[str, str]] = Field(
        {}, description="per role or disaggregation: partner's text -> registry code")
    combos: dict[str, dict[Code, str]] = {}
    units: dict[Code, str] = Field(
        {}, description="indicator -> the unit this partner reports it in (converted "
                        "through the registry's unit conversions)")
    summary_rows: list[SummaryRows] = []

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
            if self.columns.value or self.columns.indicator:
                raise ValueError("a wide layout takes indicators from `values`, "
                                 "not columns.value / columns.indicator")
        return self

    def format_for(self, file_name: str) -> FileFormat | None:
        if self.reader.format:
            return self.reader.format
        suffix = "." + file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
        return EXTENSION_FORMATS.get(suffix)
