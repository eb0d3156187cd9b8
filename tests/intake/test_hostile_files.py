"""Intake holds under careless (or hostile) partner files: odd JSON keys are plain keys, files
over the initiative's limits are kept and explained instead of read, and a partner's cell is
quoted short and escaped wherever a reason, a page or a CSV shows it.

Every case is a real file, generated here, landed by the real landing and mapped by the real
extraction; the dbt case runs the real models and writes the real feedback pack."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from murmuration.intake.extract import extract_pending, load_extraction
from murmuration.intake.landing import land_inbox, load_submissions
from murmuration.intake.readers import json_depth, read_grid
from murmuration.paths import SAMPLE_PROJECT_DIR
from murmuration.registry import load_registry
from murmuration.registry.mapping import FileFormat
from murmuration.registry.models import Limits
from murmuration.sample_inbox import generate_sample_inbox
from tests.conftest import SAMPLE_AS_OF, build_outside_dagster, copy_initiative
from tests.intake.hostile_corpus import workbook

# Small limits, so that files over them are quick to build.
LIMITS = """
limits:
  file_mb: 1
  rows: 100
  columns: 20
  sheets: 3
  workbook_expanded_mb: 1
"""

RAISE = ", or ask the backbone to raise the limit"


def _project(tmp_path: Path, good: dict[str, int]):
    """The sample's definitions with the small limits, and ``good[folder]`` of the sample's
    own files in each of those inbox folders."""
    paths = copy_initiative(SAMPLE_PROJECT_DIR, tmp_path / "initiative")
    with (paths.project_dir / "initiative.yaml").open("a", encoding="utf-8") as handle:
        handle.write(LIMITS)
    generated = tmp_path / "generated"
    generate_sample_inbox(generated)
    for folder, count in good.items():
        (paths.inbox_dir / folder).mkdir(parents=True, exist_ok=True)
        files = sorted(p for p in (generated / folder).iterdir()
                       if p.is_file() and not p.name.startswith("~$"))[:count]
        for path in files:
            shutil.copy2(path, paths.inbox_dir / folder / path.name)
    return paths


def _drop(paths, folder: str, name: str, content: bytes | str) -> Path:
    target = paths.inbox_dir / folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    target.write_bytes(content)
    return target


def _expanding_workbook(megabytes: float) -> bytes:
    """A valid workbook whose sheet XML is padded with whitespace: a few KB zipped, more than
    ``megabytes`` once unzipped."""
    source = zipfile.ZipFile(io.BytesIO(workbook({"Return": [["Month", "Area"], ["x", "y"]]})))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * int(megabytes * 1e6))
            target.writestr(info.filename, data)
    return buffer.getvalue()


def _sample_json(paths) -> dict:
    first = sorted((paths.inbox_dir / "riverside_health").glob("*.json"))[0]
    return json.loads(first.read_text(encoding="utf-8"))


# As many odd keys as the mapping reads columns (more would be "not the agreed template").
ODD_KEYS = {"\\": "a backslash", "$.dataElement": "NOT THE DATA ELEMENT", '"': "a quote",
            "période ☂ value'); drop table item; --": "unicode and SQL",
            "k" * 5000: "a very long key"}


def _accounted(paths, submission) -> None:
    """Every row of a landed file is a structure, other-sheet, empty or data row, and every data
    row became records."""
    extraction = load_extraction(paths, submission.submission_id)
    rows = pq.read_table(paths.submission_dir(submission.submission_id) / "rows.parquet")
    assert rows.num_rows == submission.rows_read
    assert submission.rows_read == (extraction.structure_rows + extraction.other_sheet_rows
                                    + extraction.empty_rows + extraction.data_rows), submission
    assert extraction.data_rows == 0 or extraction.records > 0


def _kept(paths, submission, original: bytes) -> None:
    received = paths.received_dir / submission.submission_id / submission.file_name
    assert received.read_bytes() == original


def test_dhis2_keys_are_read_as_plain_keys(tmp_path):
    paths = _project(tmp_path, {"riverside_health": 2})
    clean = _sample_json(paths)
    odd = dict(clean, dataValues=[{**ODD_KEYS, **item} for item in clean["dataValues"]])
    # An item missing fields, one with extra fields, and values that are not objects.
    ragged = dict(clean, dataValues=[
        {k: v for k, v in clean["dataValues"][0].items() if k != "value"},
        {**clean["dataValues"][1], "comment": "checked", "extra": {"nested": [1, 2]}},
        {k: v for k, v in clean["dataValues"][2].items() if k != "orgUnit"},
        clean["dataValues"][3], 7, None])
    deep = '{"dataValues": ' + "[" * 10_000 + "]" * 10_000 + "}"
    files = {"odd_keys.json": json.dumps(odd, ensure_ascii=False),
             "ragged.json": json.dumps(ragged), "deep.json": deep}
    originals = {name: _drop(paths, "riverside_health", name, text).read_bytes()
                 for name, text in files.items()}

    registry = load_registry(paths)
    landed = {s.file_name: s for s in land_inbox(paths, registry).new}
    extract_pending(paths, registry, load_submissions(paths))

    # Odd keys are plain columns: no error, and no key takes another field's value.
    grid = read_grid(paths.inbox_dir / "riverside_health" / "odd_keys.json", FileFormat.DHIS2_JSON)
    header, first = grid.table.column("cells").to_pylist()[:2]
    cells = dict(zip(header, first, strict=True))
    assert cells["dataElement"] == clean["dataValues"][0]["dataElement"]
    assert cells["value"] == clean["dataValues"][0]["value"]
    for key, value in ODD_KEYS.items():
        assert cells[key] == value
    assert landed["odd_keys.json"].status == "landed"
    odd_extraction = load_extraction(paths, landed["odd_keys.json"].submission_id)
    assert odd_extraction.problem is None and odd_extraction.unused_column_count == len(ODD_KEYS)
    # The same values as the clean export it was made from.
    clean_submission = next(s for s in landed.values() if s.file_name not in files
                            and json.loads(Path(s.received_path).read_bytes()) == clean)

    def records(submission):
        table = pq.read_table(paths.submission_dir(submission.submission_id) / "records.parquet",
                              columns=["row_number", "indicator_text", "place_text",
                                       "period_text", "value_text", "combo_text"])
        return sorted(table.to_pylist(), key=lambda r: r["row_number"])

    assert records(landed["odd_keys.json"]) == records(clean_submission)

    # Missing fields are empty cells; extra fields are columns; non-objects are empty rows.
    ragged_rows = pq.read_table(paths.submission_dir(landed["ragged.json"].submission_id)
                                / "records.parquet").to_pylist()
    by_row = {r["row_number"]: r for r in ragged_rows}
    assert by_row[2]["value_text"] is None and by_row[4]["place_text"] is None
    assert by_row[3]["value_text"] == clean["dataValues"][1]["value"]
    assert load_extraction(paths, landed["ragged.json"].submission_id).empty_rows == 2

    # Nested too deep: not read, kept, and said so with the limit.
    assert json_depth(paths.inbox_dir / "riverside_health" / "deep.json") == 10_001
    assert landed["deep.json"].status == "unreadable"
    assert landed["deep.json"].message == (
        "the JSON is nested 10,001 levels deep, more than the limit of 64 (limits.json_depth in "
        "initiative.yaml): export it again from DHIS2 as a data value set" + RAISE)
    for name, original in originals.items():
        _kept(paths, landed[name], original)
    for submission in landed.values():
        if submission.status == "landed":
            _accounted(paths, submission)


def test_files_over_the_limits_are_kept_and_explained(tmp_path):
    paths = _project(tmp_path, {"library_service": 2, "family_hub": 2})
    header = "Month,Area,Minutes of reading sessions\n"
    line = "2024-11-01,NORTHGATE,4095\n"
    # 100 rows exactly (the header and 99 data rows): at the limit, read.
    at_limit = header + line * 99
    # 130 lines, 66 rows: line ends inside quoted cells are not rows.
    quoted = "Month,Area,Minutes of reading sessions,Notes\n" + \
        '2024-11-01,NORTHGATE,4095,"checked\nby Ana"\n' * 65
    # A comma inside quotes is not a column.
    quoted_commas = header.rstrip("\n") + ",Notes\n" + \
        f'2024-11-01,NORTHGATE,4095,"{"," * 40}"\n'
    files = {
        ("library_service", "at_limit.csv"): at_limit,
        ("library_service", "quoted_lines.csv"): quoted,
        ("library_service", "quoted_commas.csv"): quoted_commas,
        ("library_service", "many_rows.csv"): header + line * 150,
        ("library_service", "wide.csv"): ",".join(f"c{i}" for i in range(30)) + "\n"
                                         + ",".join("1" * 30) + "\n",
        ("library_service", "big.csv"): header + line * 45_000,
        ("family_hub", "expands.xlsx"): _expanding_workbook(3),
        ("family_hub", "many_sheets.xlsx"): workbook(
            {f"Sheet {n}": [["Month", "Neighbourhood"]] for n in range(5)}),
        ("family_hub", "long_sheets.xlsx"): workbook(
            {"Return": [["Month", "Neighbourhood"]] + [["2025-01-01", "Northgate"]] * 80,
             "Notes": [["note"]] * 40}),
        ("family_hub", "wide.xlsx"): workbook({"Return": [list(range(25))]}),
    }
    originals = {name: _drop(paths, folder, name, content).read_bytes()
                 for (folder, name), content in files.items()}

    registry = load_registry(paths)
    assert registry.initiative.limits.rows == 100
    landed = {s.file_name: s for s in land_inbox(paths, registry).new}
    extract_pending(paths, registry, load_submissions(paths))

    expected = {
        "many_rows.csv": "the file has 151 rows, more than the limit of 100 (limits.rows in "
                         "initiative.yaml): split it by month" + RAISE,
        "wide.csv": "the file has 30 columns, more than the limit of 20 (limits.columns in "
                    "initiative.yaml): send only the columns of the agreed template" + RAISE,
        "big.csv": "the file is 1.2 MB, more than the limit of 1 MB (limits.file_mb in "
                   "initiative.yaml): split it by month (or by area)" + RAISE,
        "expands.xlsx": "the workbook holds at least 3.0 MB of data once unzipped, more than the "
                        "limit of 1 MB (limits.workbook_expanded_mb in initiative.yaml): delete "
                        "unused sheets, rows and columns (or split it by month)" + RAISE,
        "many_sheets.xlsx": "the workbook has 5 sheets, more than the limit of 3 (limits.sheets "
                            "in initiative.yaml): send only the sheets of the agreed template"
                            + RAISE,
        "long_sheets.xlsx": "the file has 121 rows, more than the limit of 100 (limits.rows in "
                            "initiative.yaml): split it by month" + RAISE,
        "wide.xlsx": "the file has 25 columns, more than the limit of 20 (limits.columns in "
                     "initiative.yaml): send only the columns of the agreed template" + RAISE,
    }
    assert len(originals["expands.xlsx"]) < 50_000  # small zipped, counted as it is unzipped
    for name, reason in expected.items():
        submission = landed[name]
        assert (submission.status, submission.message) == ("unreadable", reason), name
        assert submission.detail.startswith("over limits."), submission.detail
        assert submission.rows_read == 0
        assert not (paths.submission_dir(submission.submission_id) / "rows.parquet").exists()
    for name in ("at_limit.csv", "quoted_lines.csv", "quoted_commas.csv"):
        assert landed[name].status == "landed", landed[name].message
    assert landed["at_limit.csv"].rows_read == 100
    assert landed["quoted_lines.csv"].rows_read == 66
    # Nothing is lost: every file kept as received; every row of the others accounted for.
    for (_, name), _content in files.items():
        _kept(paths, landed[name], originals[name])
    others = [s for s in landed.values() if s.file_name not in expected]
    assert len(others) == 4 + 3
    for submission in others:
        assert submission.status == "landed"
        _accounted(paths, submission)


def test_long_and_control_cells_are_quoted_short_and_escaped(tmp_path):
    from murmuration.feedback import write_feedback_packs
    from murmuration.warehouse import publish

    paths = _project(tmp_path, {"library_service": 2})
    header = "Month,Area,Minutes of reading sessions\n"
    long_cell = "9" * 50 + "x" * 100_000
    _drop(paths, "library_service", "long_cell.csv",
          header + f"2024-12-01,NORTHGATE,{long_cell}\n2024-12-01,SOUTHBANK,12\n")
    _drop(paths, "library_service", "nul.csv",
          header + "2024-12-01,North\x00gate,12\n2024-12-01,SOUTHBANK,12\n"
          "2024-12-01,EASTFIELD,12\n")
    build_outside_dagster(paths, SAMPLE_AS_OF)
    publish(paths)
    write_feedback_packs(paths)

    con = duckdb.connect(str(paths.serving), read_only=True)
    try:
        reasons = dict(con.execute(
            "select file_name, quarantine_reason from marts.quarantined_values "
            "where file_name in ('long_cell.csv', 'nul.csv')").fetchall())
        submissions = con.execute(
            "select file_name, data_rows, rows_accepted, rows_quarantined "
            "from marts.submissions where landing_status = 'landed'").fetchall()
    finally:
        con.close()
    shown = long_cell[:Limits().cell_chars_in_messages]
    assert reasons["long_cell.csv"] == f"value '{shown}… (100,050 characters)' is not a number"
    assert reasons["nul.csv"].startswith("'North\\x00gate' is not a known place")
    assert "\x00" not in reasons["nul.csv"]
    # Every row of every file is accepted or quarantined.
    assert len(submissions) == 4
    for file_name, data_rows, accepted, quarantined in submissions:
        assert data_rows == accepted + quarantined > 0, file_name

    pack = paths.feedback_dir / "library_service"
    html = (pack / "index.html").read_bytes()
    assert b"\x00" not in html and b"North\\x00gate" in html
    assert html.count(b"x" * 1000) == 0  # the 100 KB cell is not repeated on the page
    assert len(html) < 200_000
    for csv_file in pack.glob("*.csv"):
        assert b"\x00" not in csv_file.read_bytes(), csv_file.name
    quarantined_csv = (pack / "quarantined.csv").read_text(encoding="utf-8-sig")
    assert "North\\x00gate" in quarantined_csv
    assert long_cell in quarantined_csv  # the CSV keeps the cell whole, for the partner


@pytest.mark.parametrize("limit", [3, 64])
def test_json_depth_limit_is_the_initiatives(tmp_path, limit):
    path = tmp_path / "values.json"
    path.write_text(json.dumps({"dataValues": [{"dataElement": "a", "value": {"x": [[1]]}}]}))
    assert json_depth(path) == 6
    limits = Limits(json_depth=limit)
    if limit < 6:
        with pytest.raises(Exception, match=r"nested 6 levels deep, more than the limit of 3"):
            read_grid(path, FileFormat.DHIS2_JSON, limits=limits)
    else:
        assert read_grid(path, FileFormat.DHIS2_JSON, limits=limits).table.num_rows == 2


def test_readme_shows_the_default_limits():
    """docs/judging.md, "Limits", shows the defaults."""
    import re

    import yaml

    from tests.onboarding.test_readme import section

    block = re.search(r"```yaml\n(.*?)```", section("Limits"), re.S).group(1)
    assert Limits(**yaml.safe_load(block)["limits"]) == Limits()
