"""Hostile and broken partner files, each with the outcome a partner should see.

Every case is a file a careless (or hostile) partner could send into the sample initiative's
inbox: encodings, delimiters, line ends, ragged rows, formulas and markup in cells, numbers in
odd shapes, damaged and mislabelled workbooks, JSON that is not what it says, files over the
initiative's limits, clutter. ``tests/intake/test_hostile_corpus.py`` lands them all with the real
landing, maps them with the real mappings, builds the real models and checks each outcome:
never a traceback or an engine's words, every file kept byte for byte, every row accepted or
quarantined with a reason.
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from dataclasses import dataclass

import openpyxl

LIBRARY = "Month,Area,Minutes of reading sessions\n"
BRIGHT = "Organisation,Month,Neighbourhood,Sex,Age group,Measure,Count\n"


@dataclass(frozen=True)
class Case:
    id: str
    folder: str
    name: str
    content: bytes
    status: str  # landed | unreadable | ignored | unchanged (the same bytes as another case)
    # For a file not read: words its reason must contain. For a landed one: words one of its
    # quarantine reasons (or its mapping problem) must contain, if any.
    says: str | None = None
    accepted: int | None = None  # data rows accepted, when it is known exactly
    quarantined: int | None = None  # data rows quarantined, when it is known exactly


def _text(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def _library(*rows: str, header: str = LIBRARY, newline: str = "\n") -> bytes:
    return (header + "".join(row + "\n" for row in rows)).replace("\n", newline).encode()


def workbook(sheets: dict[str, list[list]], hidden: tuple[str, ...] = (),
              merged: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        if name in hidden:
            sheet.sheet_state = "hidden"
        if merged and name == "Return":
            sheet.merge_cells(merged)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _family(rows: list[list], title: bool = True, **options) -> bytes:
    header = [["Family Hub Network - monthly return"], ["Reporting month: March 2025"], []] \
        if title else []
    columns = ["Month", "Neighbourhood", "Home visits completed", "Families referred to support"]
    return workbook({"Return": header + [columns] + rows}, **options)


def _dhis2(values: list, **extra) -> bytes:
    return json.dumps({"dataSet": "RchsMonth01", **extra, "dataValues": values}).encode()


def _value(org: str = "OuNgate0001", value="40", element: str = "Imm2yFull01",
           combo: str = "CocFemale01", period: str = "202503") -> dict:
    return {"dataElement": element, "period": period, "orgUnit": org,
            "categoryOptionCombo": combo, "value": value}


def _expanding_xlsx() -> bytes:
    """A small zip whose one sheet unzips to 3 MB (over a 2 MB expanded-size limit)."""
    buffer = io.BytesIO()
    base = _family([["2025-03-31", "Northgate", 1, 1]])
    with zipfile.ZipFile(io.BytesIO(base)) as source, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.endswith("sheet1.xml"):
                data = data.replace(b"</worksheet>", b"<!--" + b" " * 3_000_000 + b"--></worksheet>")
            target.writestr(item, data)
    return buffer.getvalue()


def _forged_directory(workbook: bytes, member: str = "sheet1.xml", said: int = 1_000) -> bytes:
    """The workbook with its zip directory (and local header) saying ``member`` unzips to
    ``said`` bytes, whatever it really unzips to: a zip bomb past a check of the directory."""
    data = bytearray(workbook)
    for signature, name_at, size_at, name_from in ((b"PK\x01\x02", 28, 24, 46),
                                                     (b"PK\x03\x04", 26, 22, 30)):
        start = data.find(signature)
        while start != -1:
            length = int.from_bytes(data[start + name_at:start + name_at + 2], "little")
            name = bytes(data[start + name_from:start + name_from + length])
            if name.endswith(member.encode()):
                data[start + size_at:start + size_at + 4] = said.to_bytes(4, "little")
            start = data.find(signature, start + 4)
    return bytes(data)


def cases() -> list[Case]:
    good = ["2025-03-01,NORTHGATE,4221", "2025-03-01,SOUTHBANK,3492"]
    lines = [
        # --- CSV: encodings -----------------------------------------------------------------
        Case("utf8_bom", "library_service", "bom.csv", b"\xef\xbb\xbf" + _library(*good),
             "landed", accepted=2, quarantined=0),
        Case("utf16_le_bom", "library_service", "utf16.csv",
             b"\xff\xfe" + _library(*good).decode().encode("utf-16-le"), "landed", accepted=2,
             quarantined=0),
        Case("utf16_be_no_bom", "library_service", "utf16be.csv",
             _library(*good).decode().encode("utf-16-be"), "landed", accepted=2, quarantined=0),
        Case("utf16_le_no_bom", "library_service", "utf16le.csv",
             _library(*good).decode().encode("utf-16-le"), "landed", accepted=2, quarantined=0),
        Case("doubled_bom", "library_service", "bom_bom.csv",
             b"\xef\xbb\xbf\xef\xbb\xbf" + _library(*good), "landed", accepted=2,
             quarantined=0),
        Case("latin1_place", "library_service", "latin1.csv",
             _text(LIBRARY + "2025-03-01,Südbank,12\n2025-03-01,NORTHGATE,5\n", "latin-1"),
             "landed", says="'Südbank' is not a known place", accepted=1, quarantined=1),
        Case("cp1252_quotes", "library_service", "cp1252.csv",
             _text(LIBRARY + "2025-03-01,\u201cNorthgate\u201d,12\n", "cp1252"), "landed",
             says="is not a known place", accepted=0, quarantined=1),
        Case("invalid_utf8_byte", "library_service", "badbyte.csv",
             _library(*good).replace(b"SOUTHBANK", b"SOUTH\xffBANK"), "landed",
             says="is not a known place", accepted=1, quarantined=1),
        # --- CSV: delimiters and line ends ---------------------------------------------------
        Case("semicolons", "library_service", "semicolon.csv",
             _library(*[g.replace(",", ";") for g in good], header=LIBRARY.replace(",", ";")),
             "landed", accepted=2, quarantined=0),
        Case("tabs", "library_service", "tabs.tsv",
             _library(*[g.replace(",", "\t") for g in good], header=LIBRARY.replace(",", "\t")),
             "landed", says="no mapping covers 'tabs.tsv'", accepted=0, quarantined=3),
        Case("pipes", "library_service", "pipes.csv",
             _library(*[g.replace(",", "|") for g in good], header=LIBRARY.replace(",", "|")),
             "landed", accepted=2, quarantined=0),
        Case("crlf", "library_service", "crlf.csv", _library(*good, newline="\r\n"), "landed",
             accepted=2, quarantined=0),
        Case("cr_only", "library_service", "cr.csv", _library(*good, newline="\r"), "landed",
             accepted=2, quarantined=0),
        Case("mixed_line_ends", "library_service", "mixed_ends.csv",
             (LIBRARY.rstrip("\n") + "\r\n" + good[0] + "\n" + good[1] + "\r").encode(),
             "landed", accepted=2, quarantined=0),
        Case("crlf_and_lf", "library_service", "crlf_lf.csv",
             (LIBRARY.rstrip("\n") + "\r\n" + good[0] + "\n" + good[1] + "\r\n").encode(),
             "landed", accepted=2, quarantined=0),
        Case("no_final_newline", "library_service", "nofinal.csv", _library(*good)[:-1],
             "landed", accepted=2, quarantined=0),
        Case("blank_lines", "library_service", "blanks.csv",
             _library(good[0], "", "", good[1], ""), "landed", accepted=2, quarantined=0),
        Case("trailing_commas", "library_service", "trailing.csv",
             _library(*[g + ",,," for g in good], header=LIBRARY.rstrip("\n") + ",,,\n"),
             "landed", accepted=2, quarantined=0),
        # --- CSV: shape -----------------------------------------------------------------------
        Case("header_only", "library_service", "header_only.csv", _library(), "landed",
             accepted=0, quarantined=0),
        Case("missing_column", "library_service", "no_area.csv",
             b"Month,Minutes of reading sessions\n2025-03-01,4221\n", "landed",
             says="Area"),
        Case("extra_columns", "library_service", "extra.csv",
             _library(*[g + ",note" for g in good], header=LIBRARY.rstrip("\n") + ",Notes\n"),
             "landed", accepted=2, quarantined=0),
        Case("header_case_and_spaces", "library_service", "header_case.csv",
             _library(*good, header="  month , AREA ,minutes of reading sessions\n"), "landed",
             accepted=2, quarantined=0),
        Case("duplicate_header", "library_service", "dup_header.csv",
             _library(*[g + ",1" for g in good], header=LIBRARY.rstrip("\n") + ",Area\n"),
             "landed"),
        Case("short_row", "library_service", "short_row.csv",
             _library(good[0], "2025-03-01,SOUTHBANK"), "landed", accepted=1, quarantined=1),
        Case("long_row", "library_service", "long_row.csv",
             _library(good[0], "2025-03-01,SOUTHBANK,3492,extra,cells"), "landed"),
        Case("quoted_newline", "library_service", "quoted_newline.csv",
             _library(good[0], '2025-03-01,"SOUTH\nBANK",3492'), "landed", accepted=2,
             quarantined=0),  # names are matched ignoring spaces and case
        Case("unclosed_quote", "library_service", "unclosed.csv",
             _library(good[0], '2025-03-01,"SOUTHBANK,3492', good[1]), "unreadable",
             says="quotation mark opened on line 3 is never closed"),
        Case("many_columns", "library_service", "wide_ok.csv",
             _library(*[g + "," * 500 for g in good],
                      header=LIBRARY.rstrip("\n") + "".join(f",x{i}" for i in range(500)) + "\n"),
             "landed", says="not the agreed template: 500 of its 503 columns", accepted=0,
             quarantined=2),
        # --- CSV: values ----------------------------------------------------------------------
        Case("thousands_separator", "library_service", "thousands.csv",
             _library('2025-03-01,NORTHGATE,"4,221"', "2025-03-01,SOUTHBANK,3 492"), "landed"),
        Case("negative", "library_service", "negative.csv",
             _library("2025-03-01,NORTHGATE,-40", good[1]), "landed", says="-40",
             accepted=1, quarantined=1),
        Case("not_numbers", "library_service", "not_numbers.csv",
             _library("2025-03-01,NORTHGATE,n/a", "2025-03-01,SOUTHBANK,-",
                      "2025-03-01,EASTFIELD,twelve"), "landed", says="is not a number",
             accepted=0, quarantined=3),
        Case("nan_infinity", "library_service", "nan.csv",
             _library("2025-03-01,NORTHGATE,NaN", "2025-03-01,SOUTHBANK,Infinity",
                      "2025-03-01,EASTFIELD,1e309"), "landed", accepted=0, quarantined=3),
        Case("huge_number", "library_service", "huge.csv",
             _library("2025-03-01,NORTHGATE,1e300", good[1]), "landed", accepted=1,
             quarantined=1),
        Case("formula_injection", "library_service", "formulas.csv",
             _library("2025-03-01,NORTHGATE,=1+1", "2025-03-01,=HYPERLINK(\"x\"),5",
                      "2025-03-01,@SUM(A1),5", "2025-03-01,+cmd|' /C calc'!A0,5"),
             "landed", says="is not a number", accepted=0, quarantined=4),
        Case("markup", "library_service", "markup.csv",
             _library("2025-03-01,<script>alert(1)</script>,5",
                      "2025-03-01,<img src=x onerror=alert(1)>,5"), "landed",
             says="<script>", accepted=0, quarantined=2),
        Case("empty_values", "library_service", "empty_values.csv",
             _library("2025-03-01,NORTHGATE,", "2025-03-01,SOUTHBANK,  "), "landed"),
        Case("zero_width_place", "library_service", "zero_width.csv",
             _library("2025-03-01,NORTH\u200bGATE,5", good[1]), "landed"),
        Case("nbsp_values", "library_service", "nbsp.csv",
             _library("2025-03-01,\u00a0NORTHGATE\u00a0,\u00a05\u00a0", good[1]), "landed"),
        Case("emoji", "library_service", "emoji.csv",
             _library("2025-03-01,NORTHGATE 🏠,5", good[1]), "landed",
             says="is not a known place", accepted=1, quarantined=1),
        Case("control_characters", "library_service", "control.csv",
             _library("2025-03-01,NORTH\x07GATE\x1b[31m,5", good[1]), "landed",
             says="\\x07", accepted=1, quarantined=1),
        Case("other_date_shapes", "library_service", "dates.csv",
             _library("March 2025,NORTHGATE,5", "03/2025,SOUTHBANK,5", "2025-3,EASTFIELD,5",
                      "Q1 2025,WESTMOOR,5"), "landed"),
        Case("future_period", "library_service", "future.csv",
             _library("2031-01-01,NORTHGATE,5", good[1]), "landed", accepted=1, quarantined=1),
        Case("far_future_period", "library_service", "year_9999.csv",
             _library("9999-12-01,NORTHGATE,5", good[1]), "landed", says="had not started",
             accepted=1, quarantined=1),
        Case("year_typed_wrong", "library_service", "year_0205.csv",
             _library("0205-03-01,NORTHGATE,5", good[1]), "landed",
             says="is before 2014-11, the earliest this initiative takes", accepted=1,
             quarantined=1),
        Case("unknown_place", "library_service", "unknown_place.csv",
             _library("2025-03-01,Atlantis,5", good[1]), "landed",
             says="'Atlantis' is not a known place", accepted=1, quarantined=1),
        Case("long_cell", "library_service", "long_cell.csv",
             _library("2025-03-01,NORTHGATE," + "9" * 20 + "x" * 50_000, good[1]), "landed",
             says="(50,020 characters)", accepted=1, quarantined=1),
        # --- CSV: not CSV at all -------------------------------------------------------------
        Case("whitespace_only", "library_service", "blank.csv", b"  \n\t\n\n", "unreadable",
             says="the file is empty"),
        Case("zero_bytes", "library_service", "zero.csv", b"", "unreadable",
             says="the file is empty"),
        Case("binary_garbage", "library_service", "garbage.csv", bytes(range(256)) * 40,
             "unreadable", says="not text in a known encoding"),
        Case("gzip_named_csv", "library_service", "packed.csv", gzip.compress(_library(*good)),
             "unreadable", says="not text in a known encoding"),
        Case("zip_named_csv", "library_service", "zipped.csv", _family([]), "unreadable",
             says="is an Excel workbook (or another zipped file)"),
        Case("huge_line", "library_service", "huge_line.csv",
             LIBRARY.encode() + b"y" * 2_100_000 + b"\n", "unreadable",
             says="too long to be a row"),
        # --- names and clutter ---------------------------------------------------------------
        Case("unicode_name", "library_service", "rapport été (1).csv",
             _library("2025-04-01,NORTHGATE,7"), "landed", accepted=1, quarantined=0),
        Case("same_bytes_again", "library_service", "bom_again.csv",
             b"\xef\xbb\xbf" + _library(*good), "unchanged"),
        Case("pdf", "library_service", "report.pdf", b"%PDF-1.7\n1 0 obj\n", "unreadable",
             says="send CSV"),
        Case("docx", "library_service", "letter.docx", workbook({"Letter": [["Dear"]]}),
             "unreadable",
             says="send CSV"),
        Case("no_extension", "library_service", "README", b"hello", "unreadable",
             says="send CSV"),
        Case("excel_lock_file", "family_hub", "~$family_hub_return.xlsx", b"\x00" * 165,
             "ignored", says="lock file"),
        Case("libreoffice_lock", "library_service", ".~lock.data.csv#", b"x", "ignored",
             says="lock file"),
        Case("thumbs_db", "family_hub", "Thumbs.db", b"\x00" * 64, "ignored",
             says="thumbnail"),
        Case("ds_store", "family_hub", ".DS_Store", b"\x00\x00\x00\x01Bud1", "ignored",
             says="macOS"),
        # --- Excel ----------------------------------------------------------------------------
        Case("workbook_ok", "family_hub", "ok.xlsx",
             _family([["2025-03-31", "Northgate", 135, 20], ["2025-03-31", "Southbank", 112, 11]]),
             "landed", accepted=2, quarantined=0),
        Case("macro_workbook", "family_hub", "return_with_macros.xlsm",
             _family([["2025-03-31", "Eastfield", 97, 8], ["2025-03-31", "Westmoor", 88, 6]]),
             "landed", accepted=2, quarantined=0),
        Case("no_title_rows", "family_hub", "no_title.xlsx",
             _family([["2025-03-31", "Northgate", 135, 20]], title=False), "landed",
             accepted=1, quarantined=0),
        Case("merged_title", "family_hub", "merged.xlsx",
             _family([["2025-03-31", "Eastfield", 105, 13]], merged="A1:D1"), "landed",
             accepted=1, quarantined=0),
        Case("hidden_sheet", "family_hub", "hidden.xlsx",
             workbook({"Secret": [["x"]], "Return": [
                 ["Month", "Neighbourhood", "Home visits completed",
                  "Families referred to support"], ["2025-03-31", "Westmoor", 3, 1]]},
                 hidden=("Secret",)), "landed", accepted=1, quarantined=0),
        Case("numbers_as_text", "family_hub", "text_numbers.xlsx",
             _family([["2025-03-31", "Northgate", "135", " 20 "]]), "landed", accepted=1,
             quarantined=0),
        Case("formula_cells", "family_hub", "formulas.xlsx",
             _family([["2025-03-31", "Northgate", "=100+35", "=A1"]]), "landed"),
        Case("wrong_sheet_name", "family_hub", "renamed.xlsx",
             workbook({"Sheet1": [["Nothing", "Here"], [1, 2]]}), "landed", says="sheet"),
        Case("empty_workbook", "family_hub", "empty.xlsx", workbook({"Return": []}), "landed"),
        Case("truncated_workbook", "family_hub", "truncated.xlsx",
             _family([["2025-03-31", "Northgate", 1, 1]])[:2000], "unreadable",
             says="the workbook is damaged"),
        Case("csv_named_xlsx", "family_hub", "text.xlsx", _library(*good), "unreadable",
             says="is text"),
        Case("pdf_named_xlsx", "family_hub", "scan.xlsx", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
             "unreadable", says="PDF document"),
        Case("old_xls_or_encrypted", "family_hub", "protected.xlsx",
             b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000, "unreadable"),
        Case("expanding_workbook", "family_hub", "bomb.xlsx", _expanding_xlsx(), "unreadable",
             says="limits.workbook_expanded_mb"),
        Case("forged_zip_directory", "family_hub", "small_bomb.xlsx",
             _forged_directory(_expanding_xlsx()), "unreadable",
             says="limits.workbook_expanded_mb"),
        # --- DHIS2 JSON -------------------------------------------------------------------------
        Case("json_ok", "riverside_health", "ok.json",
             _dhis2([_value(), _value("OuSbank0001", "38")]), "landed", accepted=2,
             quarantined=0),
        Case("json_bom", "riverside_health", "bom.json",
             b"\xef\xbb\xbf" + _dhis2([_value("OuEfield001", "12")]), "landed", accepted=1,
             quarantined=0),
        Case("json_numbers_not_text", "riverside_health", "numbers.json",
             _dhis2([_value("OuWmoor0001", 7)]), "landed", accepted=1, quarantined=0),
        Case("json_top_level_list", "riverside_health", "list.json",
             json.dumps([_value()]).encode(), "unreadable", says="not a DHIS2 export"),
        Case("json_nan_literal", "riverside_health", "nan.json",
             _dhis2([_value()]).replace(b'"40"', b"NaN"), "landed"),
        Case("json_duplicate_keys", "riverside_health", "dupkeys.json",
             b'{"dataValues": [{"dataElement": "Imm2yFull01", "period": "202503", "orgUnit": '
             b'"OuNgate0001", "categoryOptionCombo": "CocMale0001", "value": "1", '
             b'"value": "2"}]}', "landed"),
        Case("json_comments", "riverside_health", "comments.json",
             b"// exported\n" + _dhis2([_value()]), "unreadable", says="not valid JSON"),
        Case("json_cut_short", "riverside_health", "cut.json", _dhis2([_value()])[:70],
             "unreadable", says="ends before the JSON is complete"),
        Case("json_not_utf8", "riverside_health", "latin1.json",
             _dhis2([_value()], comment="é").decode().encode("latin-1"), "landed"),
        Case("json_deep", "riverside_health", "deep.json",
             b'{"dataValues": ' + b"[" * 5000 + b"]" * 5000 + b"}", "unreadable",
             says="limits.json_depth"),
        Case("json_odd_keys", "riverside_health", "oddkeys.json",
             _dhis2([{**_value(), "\\": "x", "$.dataElement": "Pop2yTurn01", "\"": 1}]),
             "landed", accepted=1, quarantined=0),
        Case("json_values_not_objects", "riverside_health", "ragged.json",
             _dhis2([_value(), 7, None, "text", [1, 2]]), "landed"),
        Case("json_empty_values", "riverside_health", "nothing.json", _dhis2([]),
             "unreadable", says="'dataValues' list is empty"),
        Case("json_unknown_codes", "riverside_health", "codes.json",
             _dhis2([_value(element="Xx"), _value(org="OuNowhere01")]), "landed",
             accepted=0, quarantined=2),
        # --- the long CSV template ---------------------------------------------------------------
        Case("bright_ok", "brightstart", "bright_ok.csv",
             (BRIGHT + "Bright Start,2025-03,Northgate,F,0-2,Children enrolled,40\n").encode(),
             "landed", accepted=1, quarantined=0),
        Case("bright_unknown_breakdown", "brightstart", "bright_band.csv",
             (BRIGHT + "Bright Start,2025-03,Northgate,F,5-6,Children enrolled,40\n").encode(),
             "landed", says="'5-6' is not a known", accepted=0, quarantined=1),
        Case("bright_other_partner_name", "brightstart", "bright_name.csv",
             (BRIGHT + "Someone Else Ltd,2025-03,Northgate,F,0-2,Children enrolled,4\n").encode(),
             "landed", says="is not a known partner name", accepted=0, quarantined=1),
        Case("bright_sql_in_cells", "brightstart", "bright_sql.csv",
             (BRIGHT + "Bright Start,2025-03,Northgate'; drop table x; --,F,0-2,Children "
                       "enrolled,4\n").encode(), "landed", says="drop table", accepted=0,
             quarantined=1),
    ]
    return lines
