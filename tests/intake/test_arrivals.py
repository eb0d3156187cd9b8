"""A file still being written is never landed, and a file's arrival is when the pipeline first saw
it (or the partner sent it through the portal), never the sender's clock."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from datetime import UTC, datetime

import dagster as dg
import pyarrow.parquet as pq
import pytest

from murmuration.intake import upload
from murmuration.intake.arrivals import arrivals, record
from murmuration.intake.landing import (
    ROWS_FILE,
    SETTLE_ENV,
    FileChangedWhileReading,
    keep_copy,
    land_inbox,
    load_submissions,
    wait_until_stable,
)
from murmuration.paths import SAMPLE_PROJECT_DIR
from murmuration.registry import load_registry
from tests.conftest import copy_initiative

HEADER = "Organisation,Month,Neighbourhood,Sex,Age group,Measure,Count\n"


def _line(number: int) -> str:
    return f"Bright Start,2026-0{1 + number % 9},Northgate,F,0-2,Children enrolled,{number}\n"


@pytest.fixture
def initiative(tmp_path, monkeypatch):
    monkeypatch.setenv(SETTLE_ENV, "1")
    paths = copy_initiative(SAMPLE_PROJECT_DIR, tmp_path / "initiative")
    (paths.inbox_dir / "brightstart").mkdir(parents=True)
    return paths


def _write_slowly(path, lines: int, pause: float) -> threading.Thread:
    """A partner's upload: the header, then one line every ``pause`` seconds."""
    def write():
        with path.open("w", encoding="utf-8") as handle:
            handle.write(HEADER)
            handle.flush()
            for number in range(lines):
                time.sleep(pause)
                handle.write(_line(number))
                handle.flush()
    thread = threading.Thread(target=write)
    thread.start()
    return thread


def test_a_file_written_slowly_while_a_run_starts_is_landed_whole(initiative):
    """Found: a CSV written slowly while `murmuration run` started was landed truncated (149 of
    385 lines) and went out with 3 values instead of 16."""
    target = initiative.inbox_dir / "brightstart" / "slow.csv"
    writer = _write_slowly(target, lines=40, pause=0.05)  # about 2 s of writing
    time.sleep(0.3)  # the run starts while the file is half written
    report = land_inbox(initiative, load_registry(initiative))
    writer.join()
    [submission] = report.new
    kept = (initiative.received_dir / submission.submission_id / "slow.csv").read_bytes()
    assert kept == target.read_bytes()
    assert submission.size_bytes == len(kept) == target.stat().st_size
    rows = pq.read_table(initiative.submission_dir(submission.submission_id) / ROWS_FILE)
    assert rows.num_rows == 41  # the header and all 40 lines


def test_a_file_still_changing_is_left_for_the_next_run(initiative):
    target = initiative.inbox_dir / "brightstart" / "slow.csv"
    target.write_text(HEADER, encoding="utf-8")
    now = [time.time()]  # a clock the test moves: every look is 5 s after the one before
    grown = []

    def sleep(_seconds):
        now[0] += 5
        grown.append(1)  # and the partner's client has written one more line meanwhile
        with target.open("a", encoding="utf-8") as handle:
            handle.write(_line(len(grown)))
        os.utime(target, (now[0], now[0]))

    stable, waiting = wait_until_stable([target], settle=10, max_wait=30,
                                        clock=lambda: now[0], sleep=sleep)
    assert (stable, waiting) == ([], [target])

    # Nothing is landed while it changes; the next run, once it has settled, takes all of it.
    os.utime(target, (time.time() - 60,) * 2)
    report = land_inbox(initiative, load_registry(initiative))
    assert [s.file_name for s in report.new] == ["slow.csv"] and report.waiting == []
    assert report.new[0].rows_read == 1 + len(grown)


def test_a_file_that_changes_while_it_is_copied_is_not_kept(tmp_path):
    source = tmp_path / "growing.csv"
    source.write_bytes(HEADER.encode() * 300_000)  # large enough to be read in several blocks
    from murmuration.intake import landing

    original_open = landing._open_regular

    def open_and_grow(path):
        handle = original_open(path)
        if path == source:
            with open(path, "ab") as writer:  # the partner's client writes more
                writer.write(b"late line\n")
        return handle

    received = tmp_path / "received.csv"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(landing, "_open_regular", open_and_grow)
        with pytest.raises(FileChangedWhileReading):
            keep_copy(source, received)
    assert not received.exists() and not list(tmp_path.glob(".*.part"))
    sha, size = keep_copy(source, received)  # settled: kept, hash and size from the one read
    assert received.read_bytes() == source.read_bytes() and size == source.stat().st_size


def test_arrival_is_first_seen_not_the_files_own_time(initiative):
    """Found: arrival was the file's modification time, which the sender controls."""
    target = initiative.inbox_dir / "brightstart" / "backdated.csv"
    target.write_text(HEADER + _line(1), encoding="utf-8")
    backdated = datetime(2020, 1, 5, tzinfo=UTC).timestamp()
    os.utime(target, (backdated, backdated))
    before = datetime.now(UTC).isoformat(timespec="seconds")
    [submission] = land_inbox(initiative, load_registry(initiative)).new
    assert submission.arrived_at >= before
    assert submission.modified_at == "2020-01-05T00:00:00+00:00"
    assert submission.arrival_source == "run"


def test_a_restored_inbox_keeps_every_files_arrival(initiative):
    """Found: an inbox restored with `cp` (timestamps reset) made a report 532 days late."""
    target = initiative.inbox_dir / "brightstart" / "brightstart_2025-06.csv"
    target.write_text(HEADER + _line(2), encoding="utf-8")
    record(initiative, [target], "recorded", datetime(2025, 7, 10, 9, tzinfo=UTC))
    [first] = land_inbox(initiative, load_registry(initiative)).new
    assert first.arrived_at == "2025-07-10T09:00:00+00:00"

    # The inbox is restored from a copy that lost its timestamps, and the landed state rebuilt.
    content = target.read_bytes()
    target.unlink()
    target.write_bytes(content)
    shutil.rmtree(initiative.landed_dir)
    shutil.rmtree(initiative.received_dir)
    [again] = land_inbox(initiative, load_registry(initiative)).new
    assert again.arrived_at == "2025-07-10T09:00:00+00:00"
    assert again.modified_at > "2026"


def test_a_portal_upload_arrives_when_the_partner_sent_it(initiative):
    content = (HEADER + _line(3)).encode()
    token, _staged = upload.stage(initiative, "brightstart", "march.csv", content)
    delivery = upload.deliver(initiative, "brightstart", token, "partner-user")
    time.sleep(1.1)  # the run comes later
    [submission] = land_inbox(initiative, load_registry(initiative)).new
    assert submission.landed_at > delivery.delivered_at
    assert submission.arrived_at == delivery.delivered_at
    assert submission.arrival_source == "portal"


def test_the_sensor_records_arrival_and_waits_for_a_file_to_settle(initiative, monkeypatch):
    from orchestration.defs.intake.sensors import inbox_sensor
    from orchestration.lib.resources import InitiativeResource

    resource = InitiativeResource(project_dir=str(initiative.project_dir),
                                  state_dir=str(initiative.state_dir))
    target = initiative.inbox_dir / "brightstart" / "fresh.csv"
    target.write_text(HEADER + _line(4), encoding="utf-8")
    monkeypatch.setenv(SETTLE_ENV, "3")
    with dg.instance_for_test() as instance:
        os.utime(target)  # written just now
        first = inbox_sensor(dg.build_sensor_context(instance=instance, cursor=None,
                                                     resources={"initiative": resource}))
        assert not first.run_requests and "still being written" in first.skip_reason.skip_message
        seen = arrivals(initiative, [target])[target]
        assert seen.source == "sensor"

        time.sleep(3.1)  # unchanged for the settling interval: now it runs
        second = inbox_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor,
                                                      resources={"initiative": resource}))
        assert [r.partition_key for r in second.run_requests] == ["brightstart"]
        third = inbox_sensor(dg.build_sensor_context(instance=instance, cursor=second.cursor,
                                                     resources={"initiative": resource}))
        assert not third.run_requests
    [submission] = land_inbox(initiative, load_registry(initiative)).new
    assert (submission.arrived_at, submission.arrival_source) == (seen.first_seen, "sensor")
    assert json.loads(second.cursor)["requested"]["brightstart/fresh.csv"]


def test_files_landed_before_arrivals_were_recorded_still_load(initiative):
    target = initiative.inbox_dir / "brightstart" / "old.csv"
    target.write_text(HEADER + _line(5), encoding="utf-8")
    [submission] = land_inbox(initiative, load_registry(initiative)).new
    meta = initiative.submission_dir(submission.submission_id) / "submission.json"
    data = json.loads(meta.read_text())
    del data["modified_at"], data["arrival_source"]
    meta.write_text(json.dumps(data))
    [loaded] = load_submissions(initiative)
    assert loaded.modified_at is None and loaded.arrived_at == submission.arrived_at
