"""Landing keeps every file byte for byte, once, and never loses one silently."""

from __future__ import annotations

import json
import os

import pyarrow.parquet as pq

from murmuration.intake import reasons
from murmuration.intake.extract import extract_pending, load_extraction
from murmuration.intake.landing import land_inbox, load_submissions
from murmuration.registry import load_registry
from murmuration.sample_inbox import PLANTED
from tests.conftest import SAMPLE


def test_sample_inbox_lands_every_file_once(sample_paths):
    registry = load_registry(sample_paths)
    first = land_inbox(sample_paths, registry)
    files = sorted(p for p in sample_paths.inbox_dir.rglob("*") if p.is_file())
    assert len(first.new) == len(files) == SAMPLE.files
    statuses = {s.inbox_path: s.status for s in first.new}
    assert statuses["family_hub/~$family_hub_return_2025-06.xlsx"] == "ignored"
    assert sum(status == "landed" for status in statuses.values()) == SAMPLE.landed
    # The planted broken files are kept and explained in plain words (the detail apart).
    by_path = {s.inbox_path: s for s in first.new}
    damaged = by_path["/".join(PLANTED["damaged_workbook"][:2])]
    empty = by_path["/".join(PLANTED["empty_file"][:2])]
    assert (damaged.status, damaged.message) == ("unreadable", reasons.EXCEL_DAMAGED)
    assert "Could not find EOCD" in damaged.detail and "EOCD" not in damaged.message
    assert (empty.status, empty.message, empty.detail) == ("unreadable", reasons.EMPTY, "0 bytes")
    # The hub offices' returns come from sub-folders of the partner's inbox folder.
    hubs = {s.inbox_path for s in first.new if s.inbox_path.count("/") == 2}
    assert hubs == {f"family_hub/{hub}/family_hub_return_{month}.xlsx"
                    for hub in ("north_east_hub", "south_west_hub")
                    for month in ("2026-09", "2026-10")}

    again = land_inbox(sample_paths, registry)
    assert again.new == [] and again.unchanged == SAMPLE.files

    for submission in first.new:
        original = sample_paths.inbox_dir / submission.inbox_path
        assert (sample_paths.received_dir / submission.submission_id / submission.file_name
                ).read_bytes() == original.read_bytes()
        if submission.status == "landed":
            landed = pq.read_table(sample_paths.submission_dir(submission.submission_id)
                                   / "rows.parquet")
            assert landed.num_rows == submission.rows_read


def test_same_bytes_under_another_name_are_one_submission(sample_paths):
    registry = load_registry(sample_paths)
    land_inbox(sample_paths, registry)
    source = sample_paths.inbox_dir / "housing_trust" / "housing_trust_2025-03.csv"
    (source.parent / "copy of housing_trust_2025-03.csv").write_bytes(source.read_bytes())
    report = land_inbox(sample_paths, registry)
    assert report.new == [] and report.unchanged == SAMPLE.files + 1


def test_unreadable_and_unknown_files_are_kept_and_explained(sample_paths):
    registry = load_registry(sample_paths)
    folder = sample_paths.inbox_dir / "housing_trust"
    (folder / "broken.xlsx").write_bytes(b"PK\x03\x04garbage")
    (folder / "minutes.docx").write_bytes(b"meeting notes")
    report = land_inbox(sample_paths, registry, folders={"housing_trust"})
    by_name = {s.file_name: s for s in report.new}
    assert by_name["broken.xlsx"].status == "unreadable"
    assert by_name["broken.xlsx"].message == reasons.EXCEL_DAMAGED
    assert by_name["broken.xlsx"].detail.startswith("CalamineError: ")
    assert by_name["minutes.docx"].status == "unreadable"
    assert by_name["minutes.docx"].message == (
        "files ending in '.docx' are not read; send CSV, Excel (.xlsx, .xlsm, .xls, .xlsb), "
        "OpenDocument (.ods) or DHIS2 JSON")
    assert (sample_paths.received_dir / by_name["broken.xlsx"].submission_id
            / "broken.xlsx").exists()


def test_mapping_turns_rows_into_records_and_accounts_for_every_row(sample_paths):
    registry = load_registry(sample_paths)
    land_inbox(sample_paths, registry)
    submissions = {s.file_name: s for s in load_submissions(sample_paths)}
    extract_pending(sample_paths, registry, list(submissions.values()))

    workbook = submissions["family_hub_return_2025-03.xlsx"]
    extraction = load_extraction(sample_paths, workbook.submission_id)
    assert (extraction.sheet, extraction.header_row, extraction.data_rows) == ("Return", 4, 5)
    records = pq.read_table(sample_paths.submission_dir(workbook.submission_id)
                            / "records.parquet").to_pylist()
    # 4 places x 2 value columns, plus the formula "Total" row accounted as a summary row.
    assert len(records) == 9
    total = [r for r in records if r["problem"]]
    assert [r["row_number"] for r in total] == [9]
    assert total[0]["problem"].startswith("summary row")
    visits = {r["place_text"]: r["value_text"] for r in records
              if r["indicator_text"] == "home_visits"}
    assert set(visits) == {"Northgate", "Southbank", "Eastfield", "Westmoor"}
    assert str(records[0]["period_start"]) == "2025-03-31"

    wide = submissions["parents_together_2025-03.xlsx"]
    records = pq.read_table(sample_paths.submission_dir(wide.submission_id)
                            / "records.parquet").to_pylist()
    girls = [r for r in records if r["column_name"] == "Girls 0-2"]
    assert [d["text"] for d in girls[0]["disaggregation_text"]] == ["f", "0-2"]
    # The unused template row (only its month filled in) is an empty row: counted, not data,
    # no record.
    extraction = load_extraction(sample_paths, wide.submission_id)
    assert (extraction.structure_rows, extraction.empty_rows, extraction.data_rows) == (3, 1, 4)
    assert [r["problem"] for r in records if r["problem"]] == []
    assert wide.rows_read == 8


def test_a_mapping_that_does_not_fit_quarantines_every_row_with_the_reason(sample_paths):
    registry = load_registry(sample_paths)
    path = sample_paths.inbox_dir / "housing_trust" / "housing_trust_2025-02.csv"
    path.write_text(path.read_text().replace("Families", "Households"))
    land_inbox(sample_paths, registry, folders={"housing_trust"})
    submission = next(s for s in load_submissions(sample_paths) if s.file_name == path.name)
    [extraction] = extract_pending(sample_paths, registry, [submission])
    assert "header row was not found" in extraction.problem and "'Families'" in extraction.problem
    assert extraction.data_rows == extraction.records == 5
    state = json.loads((sample_paths.submission_dir(submission.submission_id)
                        / "extract.json").read_text())
    assert state["mapping_name"] == "housing_trust_csv"


def test_the_same_bytes_from_two_partners_are_two_submissions(sample_paths):
    """A submission is its bytes in its folder: a partner sending a file identical to another
    partner's is credited with it (it was counted "unchanged" and never credited)."""
    registry = load_registry(sample_paths)
    original = sample_paths.inbox_dir / "brightstart" / "brightstart_enrolment_2025-03.csv"
    land_inbox(sample_paths, registry)
    copy = sample_paths.inbox_dir / "little_steps" / "brightstart_enrolment_2025-03.csv"
    copy.write_bytes(original.read_bytes())
    second = land_inbox(sample_paths, registry)
    assert [(s.folder, s.file_name) for s in second.new] == [
        ("little_steps", "brightstart_enrolment_2025-03.csv")]
    same = [s for s in load_submissions(sample_paths) if s.sha256 == second.new[0].sha256]
    assert sorted(s.folder for s in same) == ["brightstart", "little_steps"]
    assert len({s.submission_id for s in same}) == 2
    # The first sender keeps the content id it always had; landing again changes nothing.
    assert any(s.submission_id == s.sha256[:16] and s.folder == "brightstart" for s in same)
    again = land_inbox(sample_paths, registry)
    assert again.new == [] and again.unchanged == len(load_submissions(sample_paths))


def test_files_not_read_are_state_not_the_last_runs_memory(sample_paths):
    """Found: a run after a killed one exited 0 where the clean run exits 3 (files received
    before the kill were no longer reported). A file not read stays reported by every run
    until it is sent again readable or taken out of the inbox."""
    from app.pipeline import files_not_read

    registry = load_registry(sample_paths)
    land_inbox(sample_paths, registry)
    empty = "library_service/library_service_2026-01_final.csv"
    damaged = "parents_together/parents_together_2025-08.xlsx"
    assert [location for location, _, _ in files_not_read(sample_paths)] == [empty, damaged]
    land_inbox(sample_paths, registry)  # a later run that received nothing: still both
    assert [location for location, _, _ in files_not_read(sample_paths)] == [empty, damaged]
    good = (sample_paths.inbox_dir / "library_service" / "library_service_2025-12.csv")
    (sample_paths.inbox_dir / empty).write_bytes(good.read_bytes().replace(b"2025-12", b"2026-01"))
    (sample_paths.inbox_dir / damaged).unlink()
    land_inbox(sample_paths, registry)  # sent again readable; the other taken out
    assert files_not_read(sample_paths) == []


def test_links_pipes_and_linked_folders_in_the_inbox_are_never_read(sample_paths, tmp_path):
    """Found: a link to a system file landed as a partner's rows and was copied into
    received/; a link to another partner's file landed as the linker's. Only regular files
    are read: every other entry is listed as ignored with a reason, and nothing of it is
    opened, copied or followed."""
    from app.summary import summarise
    from murmuration.intake.landing import inbox_not_files

    outside = tmp_path / "secret.csv"
    outside.write_text("Month,Area,Minutes of reading sessions\n2025-03-01,NORTHGATE,999\n")
    library = sample_paths.inbox_dir / "library_service"
    other = sample_paths.inbox_dir / "brightstart" / "brightstart_enrolment_2025-01.csv"
    (library / "system.csv").symlink_to("/etc/passwd")
    (library / "outside.csv").symlink_to(outside)
    (library / "borrowed.csv").symlink_to(other)
    (library / "nowhere.csv").symlink_to(tmp_path / "missing.csv")
    (library / "elsewhere").symlink_to(tmp_path)
    os.mkfifo(library / "pipe.csv")
    (sample_paths.inbox_dir / "linked_partner").symlink_to(sample_paths.inbox_dir / "brightstart")
    report = land_inbox(sample_paths, load_registry(sample_paths))

    said = dict(report.not_files)
    assert sorted(said) == ["library_service/borrowed.csv", "library_service/elsewhere",
                            "library_service/nowhere.csv", "library_service/outside.csv",
                            "library_service/pipe.csv", "library_service/system.csv",
                            "linked_partner/"]
    assert said["library_service/system.csv"] == (
        "a link (to /etc/passwd), not a file: links in the inbox are never followed; put the "
        "file itself in the folder")
    assert said["library_service/pipe.csv"].startswith("a named pipe, not a file")
    landed = load_submissions(sample_paths)
    names = {s.file_name for s in landed}
    assert not names & {"system.csv", "outside.csv", "borrowed.csv", "pipe.csv"}
    assert all(s.folder != "linked_partner" for s in landed)
    # brightstart's own file landed once, as brightstart's.
    assert [s.folder for s in landed if s.sha256 == file_sha(other)] == ["brightstart"]
    received = {p.name for p in sample_paths.received_dir.rglob("*")}
    assert not received & {"system.csv", "outside.csv", "borrowed.csv", "pipe.csv"}
    assert inbox_not_files(sample_paths) == sorted(report.not_files)
    lines = summarise(sample_paths).lines()
    at = lines.index("Not files (ignored, never read or followed):")
    assert lines[at + 1].startswith("  library_service/borrowed.csv: a link (to ")


def file_sha(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
