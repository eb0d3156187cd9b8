"""Files that cannot be read get a reason a partner can act on; what the engine said is kept
apart, for the data team. Each case is a real broken file, read by the real readers and landing."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from murmuration.intake import reasons
from murmuration.intake.landing import land_inbox, load_submissions
from murmuration.intake.readers import UnreadableFile, read_grid
from murmuration.registry import load_registry
from murmuration.registry.mapping import FileFormat


def workbook_bytes() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(["Month", "Area", "Families"])
    workbook.active.append(["2025-03", "Northgate", 12])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


DHIS2 = json.dumps({"dataValues": [
    {"dataElement": "a1", "period": "202503", "value": "7"},
    {"dataElement": "b2", "period": "202503", "value": "3"}]}, indent=2)

# name, content, format, the exact reason, a piece of the technical detail
CASES = [
    ("truncated.xlsx", workbook_bytes()[:1500], FileFormat.EXCEL,
     "the workbook is damaged (it was probably cut short while being saved or sent): open it in "
     "Excel and save it again as .xlsx (Excel Workbook), then send the new file",
     "CalamineError: calamine error: Xlsx error: Zip error"),
    ("figures.xlsx", b"Month,Area,Families\r\n2025-03,Northgate,12\r\n", FileFormat.EXCEL,
     "the file is named .xlsx but is text (such as a CSV export), not an Excel workbook: send it "
     "with a .csv name, or open it in Excel and save it as .xlsx",
     "Could not find EOCD"),
    ("report.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", FileFormat.EXCEL,
     "the file is named .xlsx but is a PDF document, not an Excel workbook: send the spreadsheet "
     "the figures come from, as .xlsx or .csv", "CalamineError"),
    ("zero.xlsx", b"", FileFormat.EXCEL,
     "the file is empty: export the data again and send the new file", "0 bytes"),
    ("empty.csv", b"\r\n\r\n", FileFormat.CSV,
     "the file is empty: export the data again and send the new file", "4 bytes, all blank"),
    ("binary.csv", bytes(range(256)) * 8, FileFormat.CSV,
     "the file is not text in a known encoding (it may be a spreadsheet, a picture or another "
     "kind of file named .csv): open it in a spreadsheet, save it again as CSV (UTF-8) and send "
     "the new file", "not text: the file starts with"),
    ("workbook.csv", workbook_bytes(), FileFormat.CSV,
     "the file is named .csv but is an Excel workbook (or another zipped file), not a CSV file: "
     "send it with an .xlsx name, or save it from Excel as CSV (UTF-8)", "PK"),
    ("quotes.csv", b'Month,Area,Families\n2025-03,"Northgate,12\n2025-03,Eastfield,9\n',
     FileFormat.CSV,
     "a quotation mark opened on line 2 is never closed, so every line after it would run into "
     "one cell: remove that quotation mark or close it (or save the file again from the "
     "spreadsheet) and send the new file", "odd number of \" characters"),
    ("long.csv", b"Month,Area\n" + b"x" * 2_100_000 + b",1\n", FileFormat.CSV,
     "a line of the file is too long to be a row of a table (line 2): it is probably not a CSV "
     "export; open it in a spreadsheet, save it again as CSV (UTF-8) and send the new file",
     "Maximum line size"),
    ("invalid.json", DHIS2.replace('"value": "3"', '"value" "3"').encode(), FileFormat.DHIS2_JSON,
     "the file is not valid JSON: there is a syntax error on line 11 (a missing comma, bracket "
     "or quotation mark, or text added by hand): export it again from DHIS2 and send the new "
     "file", "Malformed JSON"),
    ("cut.json", DHIS2[:60].encode(), FileFormat.DHIS2_JSON,
     "the file is not valid JSON: it ends before the JSON is complete (it was probably cut short "
     "while being saved or sent): export it again and send the new file", "end of data"),
    ("dataset.json", json.dumps({"dataSet": "RchsMonth01", "period": "202503"}).encode(),
     FileFormat.DHIS2_JSON,
     "the file is JSON but not a DHIS2 export: it has no 'dataValues' list (nor the 'headers' "
     "and 'rows' of an analytics table); export it from DHIS2 as a data value set in JSON and "
     "send the new file", "no top-level 'dataValues'"),
    ("nothing.json", b'{"dataValues": []}', FileFormat.DHIS2_JSON,
     "the file's 'dataValues' list is empty, so it reports nothing: check the period and "
     "organisation units chosen for the export, export it again and send the new file",
     "empty array"),
]


@pytest.mark.parametrize("name, content, file_format, reason, detail", CASES,
                         ids=[case[0] for case in CASES])
def test_each_broken_file_gets_its_plain_reason(tmp_path, name, content, file_format, reason,
                                                detail):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableFile) as raised:
        read_grid(path, file_format)
    assert raised.value.reason == reason
    assert str(raised.value) == reason
    assert detail in raised.value.detail
    # The partner's words never quote an engine.
    for engine_word in ("calamine", "Zip error", "EOCD", "Invalid Input Error", "DuckDB",
                        "CSV Error", "Malformed"):
        assert engine_word not in raised.value.reason


def test_a_quote_inside_a_value_is_not_an_unclosed_field(tmp_path):
    path = tmp_path / "screens.csv"
    path.write_bytes(b'Item,Count\nScreen 5" wide,1\nCable,2\n')
    cells = read_grid(path, FileFormat.CSV).table.column("cells").to_pylist()
    assert cells == [["Item", "Count"], ['Screen 5" wide', "1"], ["Cable", "2"]]


def test_landing_keeps_every_broken_file_and_its_reason_apart_from_the_detail(sample_paths):
    """Landing words every unreadable file once (no 'The file the file ...'), keeps the bytes,
    and keeps the engine's words in ``detail`` only."""
    folder = sample_paths.inbox_dir / "housing_trust"
    for name, content, *_ in CASES:
        (folder / name).write_bytes(content)
    (folder / "notes.docx").write_bytes(b"PK\x03\x04 meeting notes")
    report = land_inbox(sample_paths, load_registry(sample_paths), folders={"housing_trust"})
    by_name = {s.file_name: s for s in report.new}
    expected = {name: reason for name, _, _, reason, _ in CASES}
    expected["notes.docx"] = reasons.unsupported_extension(".docx")
    for name, reason in expected.items():
        submission = by_name[name]
        assert (submission.status, submission.message) == ("unreadable", reason), name
        assert not submission.message.lower().startswith("the file the file")
        kept = sample_paths.received_dir / submission.submission_id / name
        assert kept.read_bytes() == (folder / name).read_bytes()
    assert by_name["truncated.xlsx"].detail.startswith("CalamineError: calamine error")
    assert by_name["notes.docx"].detail is None
    # Nothing lost: every file of the folder is a submission, read back from disk as written.
    stored = {s.file_name: s for s in load_submissions(sample_paths) if s.folder == "housing_trust"}
    assert set(stored) == {p.name for p in folder.iterdir()}
    assert stored["invalid.json"].detail == by_name["invalid.json"].detail


def test_a_file_too_large_for_the_intake_memory_is_refused_with_a_reason(tmp_path, monkeypatch):
    import threading

    from murmuration.intake.readers import INTAKE_MEMORY_ENV

    values = [{"dataElement": f"e{i}", "period": "202503", "orgUnit": f"o{i}", "value": str(i)}
              for i in range(60_000)]
    path = tmp_path / "large.json"
    path.write_text(json.dumps({"dataValues": values}))
    monkeypatch.setenv(INTAKE_MEMORY_ENV, "8MB")
    outcome = {}

    def read():  # a new thread: a new intake connection, with the limit
        try:
            read_grid(path, FileFormat.DHIS2_JSON)
        except UnreadableFile as error:
            outcome["error"] = error

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert outcome["error"].reason == reasons.OUT_OF_MEMORY
    assert "Out of Memory" in outcome["error"].detail
