"""Each export shape lands as raw text cells, with the row numbers a partner would see."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from murmuration.intake.readers import UnreadableFile, read_grid
from murmuration.paths import REPO_ROOT
from murmuration.registry.mapping import FileFormat
from tests.conftest import REALDATA


def rows(grid, sheet=None):
    table = grid.table.to_pylist()
    return [(r["row_number"], r["cells"]) for r in table if sheet is None or r["sheet"] == sheet]


def test_csv_with_bom_semicolons_and_quoted_newlines(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b'\xef\xbb\xbfMonth;Area;Note;Value\r\n2025-03;North;"two\r\nlines";7\r\n'
                     b'2025-03;South;;0\r\n')
    grid = read_grid(path, FileFormat.CSV)
    assert grid.details["delimiter"] == ";" and grid.details["bom"] is True
    assert rows(grid) == [
        (1, ["Month", "Area", "Note", "Value"]),
        (2, ["2025-03", "North", "two\r\nlines", "7"]),
        (3, ["2025-03", "South", None, "0"]),  # zero stays "0": zero is not missing
    ]


def test_ragged_csv_rows_keep_every_cell(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1,2\n3,4,5,6\n")
    assert [cells for _, cells in rows(read_grid(path, FileFormat.CSV))] == [
        ["a", "b", "c", None], ["1", "2", None, None], ["3", "4", "5", "6"]]


def test_latin1_csv_is_detected_and_kept_as_text(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("Estado,Valor\nBolívar,12\nMéxico,3\nSí señor,4\n".encode("latin-1"))
    grid = read_grid(path, FileFormat.CSV)
    assert grid.details["encoding"] != "utf-8"
    assert [cells for _, cells in rows(grid)][1:] == [["Bolívar", "12"], ["México", "3"],
                                                     ["Sí señor", "4"]]


def test_excel_title_rows_and_sheets_keep_their_row_numbers(tmp_path):
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "Notes"
    notes["A1"] = "read me"
    sheet = workbook.create_sheet("Data")
    sheet["B3"] = "Month"
    sheet["C3"] = "Visits"
    sheet["B4"] = "2025-03"
    sheet["C4"] = 12
    sheet["C5"] = 2.5
    path = tmp_path / "book.xlsx"
    workbook.save(path)
    grid = read_grid(path, FileFormat.EXCEL)
    assert grid.details["sheets"] == ["Notes", "Data"]
    data = rows(grid, "Data")
    assert [n for n, _ in data] == [1, 2, 3, 4, 5]  # leading empty rows are kept
    assert data[2][1] == ["Month", "Visits"] and data[3][1] == ["2025-03", "12"]
    assert data[4][1] == [None, "2.5"]


def test_dhis2_json_keeps_values_as_written(tmp_path):
    path = tmp_path / "dvs.json"
    path.write_text(json.dumps({"dataValues": [
        {"dataElement": "a1", "period": "202503", "value": "007", "created": "2022-09-05T12:45"},
        {"dataElement": "b2", "period": "202503", "value": 3, "followup": False},
    ]}))
    grid = read_grid(path, FileFormat.DHIS2_JSON)
    assert rows(grid) == [
        (1, ["dataElement", "period", "value", "created", "followup"]),
        (2, ["a1", "202503", "007", "2022-09-05T12:45", None]),
        (3, ["b2", "202503", "3", None, "false"]),
    ]


@pytest.mark.parametrize("name, content, file_format, message", [
    ("empty.csv", b"", FileFormat.CSV, "the file is empty: "),
    ("broken.xlsx", b"PK\x03\x04 not really a zip", FileFormat.EXCEL, "the workbook is damaged"),
    ("broken.json", b'{"dataValues": [', FileFormat.DHIS2_JSON, "not valid JSON: it ends before"),
    ("other.json", b'{"rows": []}', FileFormat.DHIS2_JSON, "it has no 'dataValues' list"),
])
def test_unreadable_files_get_a_clear_message(tmp_path, name, content, file_format, message):
    """(The exact reasons for each kind of broken file: tests/intake/test_reasons.py.)"""
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=message):
        read_grid(path, file_format)


@pytest.mark.parametrize("folder, name, file_format, expected_rows, first_cells", [
    ("rowca_ors_3w_2014", "rowca-3w-hxl.csv", FileFormat.CSV, 246,
     ["Cluster", "Organization", "ProjectCode"]),
    ("iati_sierra_leone_2014", "iati-sierraleone.csv", FileFormat.CSV, 517,
     ["iati-identifier", "hierarchy", "last-updated-datetime"]),
    ("dhis2_laos_dengue_2023", "stacked_data.csv", FileFormat.CSV, 628, ["Data", "Period", "Value"]),
    ("dhis2_sierra_leone_demo", "dataValueSet_BfMAe6Itzgt_202306_uNEhNuBUr0i.json",
     FileFormat.DHIS2_JSON, 26, ["dataElement", "period", "orgUnit"]),
    ("venezuela_education_5w_2020", "SOCIO 1.xlsx", FileFormat.EXCEL, 2231,
     ["Fecha de reporte cluster\r\n(dd/mm/aa)", "Mes reportado", "Código de proyecto"]),
])
def test_real_partner_files_land_completely(folder, name, file_format, expected_rows,
                                            first_cells):
    path: Path = REALDATA / folder / name
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    grid = read_grid(path, file_format)
    assert grid.table.num_rows == expected_rows
    assert grid.table.column("cells")[0].as_py()[:3] == first_cells


def test_every_format_has_a_reader_and_the_portal_takes_every_extension_read():
    """One registry of readers: every format a mapping can name has one, every extension the
    pipeline reads maps to one, and the portal's file picker offers exactly those."""
    from murmuration.intake.readers import ACCEPTED_EXTENSIONS, READERS
    from murmuration.registry.mapping import EXTENSION_FORMATS, FileFormat

    assert set(READERS) == set(FileFormat)
    assert set(EXTENSION_FORMATS.values()) <= set(READERS)
    assert ACCEPTED_EXTENSIONS == tuple(EXTENSION_FORMATS)
    portal = (REPO_ROOT / "dashboards" / "pages" / "portal.py").read_text(encoding="utf-8")
    assert 'ACCEPT = ",".join(ACCEPTED_EXTENSIONS)' in portal
