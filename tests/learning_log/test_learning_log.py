"""The learning log: the store (SQLite in the state folder), its validation against the registry,
the roles' rules, concurrent writers (threads and the command line), and `murmuration notes`."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
from datetime import date

import pandas as pd
import pytest

from murmuration.access import Role, User
from murmuration.environment import OFFLINE
from murmuration.learning_log import MAX_TEXT, LearningLog, NoteError, NoteNotAllowed
from murmuration.paths import SAMPLE_PROJECT_DIR
from tests.conftest import add_users, copy_initiative


def user(name: str, role: Role, **bound) -> User:
    return User(username=name, role=role, password_hash="not used", **bound)


ADMIN = user("admin", Role.ADMIN)
STEERING = user("steering", Role.STEERING)
EARLY = user("wg-early", Role.WORKING_GROUP, working_groups=("early_learning",))
HEALTH = user("wg-health", Role.WORKING_GROUP, working_groups=("health",))
BOTH = user("wg-both", Role.WORKING_GROUP, working_groups=("early_learning", "health"))
PARTNER = user("brightstart", Role.PARTNER, partners=("brightstart",))


@pytest.fixture
def project(tmp_path):
    return copy_initiative(SAMPLE_PROJECT_DIR, tmp_path / "initiative")


@pytest.fixture
def log(project):
    return LearningLog.for_project(project)


# Access rules -------------------------------------------------------------------------------
def test_who_may_write_which_notes():
    for everyone in (ADMIN, STEERING):
        assert everyone.may_write_note("health") and everyone.may_write_note(None)
        assert everyone.may_write_initiative_notes and everyone.may_write_notes
    assert EARLY.may_write_note("early_learning")
    assert not EARLY.may_write_note("health")
    assert not EARLY.may_write_note(None) and not EARLY.may_write_initiative_notes
    assert BOTH.may_write_note("health") and BOTH.may_write_note("early_learning")
    assert not BOTH.may_write_note("family_support")
    assert not PARTNER.may_write_note("early_learning") and not PARTNER.may_write_note(None)
    assert not PARTNER.may_write_notes


def test_who_may_read_and_remove_notes():
    for reader in (ADMIN, STEERING):
        assert reader.may_read_note("health") and reader.may_read_note(None)
    assert EARLY.may_read_note("early_learning") and EARLY.may_read_note(None)
    assert not EARLY.may_read_note("health")
    assert not PARTNER.may_read_notes
    assert not PARTNER.may_read_note(None) and not PARTNER.may_read_note("early_learning")
    assert ADMIN.may_remove_note("steering")
    assert STEERING.may_remove_note("steering") and STEERING.may_remove_note("Steering")
    assert not STEERING.may_remove_note("wg-early")
    assert EARLY.may_remove_note("wg-early") and not EARLY.may_remove_note("admin")
    assert not PARTNER.may_remove_note("brightstart")


# The store ----------------------------------------------------------------------------------
def test_a_note_is_kept_outside_the_warehouse_with_who_wrote_it(project, log):
    note = log.add(STEERING, "2026-10-01", "  Enrolment drive started in Eastfield \n",
                   "children_enrolled", "east")
    assert log.path == project.state_dir / "learning_log.sqlite"
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert note.id == 1 and note.noted_on == date(2026, 10, 1)
    assert note.text == "Enrolment drive started in Eastfield"
    assert (note.indicator_code, note.place_code) == ("children_enrolled", "east")
    assert (note.author, note.author_role) == ("steering", "steering")
    assert note.created_at.utcoffset().total_seconds() == 0
    with sqlite3.connect(log.path) as con:
        assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
    # A new store on the same file (another process, another request) reads it back.
    again = LearningLog.for_project(project).list()
    assert again == [note]
    whole = log.add(ADMIN, date(2026, 9, 15), "Data system changed", None, "all")
    assert whole.indicator_code is None and whole.place_code is None


def test_reading_a_log_that_does_not_exist_creates_nothing(project, log):
    assert log.list() == [] and log.list(user=EARLY) == [] and log.get(1) is None
    assert not log.path.exists()


def test_list_filters_by_indicator_place_and_dates(log):
    log.add(STEERING, "2026-09-01", "whole initiative, everywhere")
    log.add(STEERING, "2026-09-10", "whole initiative in Eastfield", place_code="east")
    log.add(STEERING, "2026-10-01", "enrolment, everywhere", "children_enrolled")
    log.add(STEERING, "2026-10-05", "enrolment in Eastfield", "children_enrolled", "east")
    log.add(STEERING, "2026-10-07", "enrolment in Northgate", "children_enrolled", "north")
    log.add(STEERING, "2026-11-01", "immunisation in Eastfield", "immunised_children", "east")

    def texts(**filters):
        return [n.text for n in log.list(**filters)]

    assert texts() == ["immunisation in Eastfield", "enrolment in Northgate",
                       "enrolment in Eastfield", "enrolment, everywhere",
                       "whole initiative in Eastfield", "whole initiative, everywhere"]
    assert texts(indicator_code="children_enrolled") == [
        "enrolment in Northgate", "enrolment in Eastfield", "enrolment, everywhere",
        "whole initiative in Eastfield", "whole initiative, everywhere"]
    assert texts(indicator_code="children_enrolled", initiative_notes=False) == [
        "enrolment in Northgate", "enrolment in Eastfield", "enrolment, everywhere"]
    assert texts(indicator_code="children_enrolled", place_code="east") == [
        "enrolment in Eastfield", "enrolment, everywhere", "whole initiative in Eastfield",
        "whole initiative, everywhere"]
    assert texts(place_code="all") == texts()
    assert texts(start="2026-10-01", end="2026-10-05") == [
        "enrolment in Eastfield", "enrolment, everywhere"]
    assert texts(start=date(2026, 11, 1)) == ["immunisation in Eastfield"]
    # What each role reads: a working group its indicators and the whole initiative's.
    assert texts(user=EARLY) == texts()[1:]
    assert texts(user=HEALTH) == ["immunisation in Eastfield", "whole initiative in Eastfield",
                                  "whole initiative, everywhere"]
    assert texts(user=STEERING) == texts()
    with pytest.raises(NoteNotAllowed, match="partners do not see the learning log"):
        log.list(user=PARTNER)


def test_a_note_is_validated_against_the_registry_in_one_line(log):
    cases = [
        (("2026-13-01", "x"), {}, "the date '2026-13-01' is not a date: write it as YYYY-MM-DD"),
        (("1/10/2026", "x"), {}, "is not a date"),
        ((None, "x"), {}, "the date is missing: write it as YYYY-MM-DD"),
        ((["2026-10-01"], "x"), {}, "the date is not a date: write it as YYYY-MM-DD"),
        (("2026-10-01", "   "), {}, "the note is empty"),
        (("2026-10-01", "x" * (MAX_TEXT + 1)), {}, f"keep it to {MAX_TEXT}"),
        (("2026-10-01", "two\nlines"), {}, "contains a line break"),
        (("2026-10-01", "a\x07bell"), {}, r"control character \(U\+0007\)"),
        (("2026-10-01", "evil\u202eeulav"), {}, r"control character \(U\+202E\)"),
        (("2026-10-01", 42), {}, "the note must be text"),
        (("2026-10-01", "x"), {"indicator_code": "children_enroled"},
         r"no indicator 'children_enroled' in registry/indicators.yaml \(known: "),
        (("2026-10-01", "x"), {"place_code": "eastfield"},
         r"no place 'eastfield' in registry/dimensions.yaml \(known: east, north, south, west\)"),
    ]
    for arguments, codes, message in cases:
        with pytest.raises(NoteError, match=message) as raised:
            log.add(STEERING, *arguments, **codes)
        assert "\n" not in str(raised.value)
    assert log.list() == []
    assert log.add(STEERING, "2026-10-01", "x" * MAX_TEXT).text == "x" * MAX_TEXT
    assert log.add(STEERING, "2026-10-01", "Schließung der Kita in Eastfield 🙁").id == 2
    with pytest.raises(NoteError, match="is after the last"):
        log.list(start="2026-11-01", end="2026-10-01")
    with pytest.raises(NoteError, match="no place 'nowhere'"):
        log.list(place_code="nowhere")


def test_each_role_writes_only_where_it_may(log):
    log.add(EARLY, "2026-10-01", "reading club started", "reading_hours")
    log.add(BOTH, "2026-10-01", "clinic closed for a week", "immunised_children", "south")
    with pytest.raises(NoteNotAllowed, match="wg-early may write notes only on the indicators "
                                             r"of their working groups \(early_learning\), "
                                             "not on immunised_children"):
        log.add(EARLY, "2026-10-01", "x", "immunised_children")
    with pytest.raises(NoteNotAllowed, match="only the steering committee and the backbone"):
        log.add(EARLY, "2026-10-01", "x")
    with pytest.raises(NoteNotAllowed, match="partners do not write in the learning log"):
        log.add(PARTNER, "2026-10-01", "x", "children_enrolled")
    log.add(ADMIN, "2026-10-01", "everything", None)
    assert len(log.list()) == 3


def test_only_the_author_or_an_admin_removes_a_note(log):
    first = log.add(STEERING, "2026-10-01", "first", "children_enrolled")
    second = log.add(EARLY, "2026-10-02", "second", "children_enrolled")
    with pytest.raises(NoteNotAllowed, match="note 1 is by steering: only its author or the "
                                             r"backbone's data team \(admin\) may remove it"):
        log.remove(EARLY, first.id)
    assert log.remove(EARLY, str(second.id)) == second
    assert log.remove(ADMIN, first.id) == first
    assert log.list() == []
    with pytest.raises(NoteError, match="no note 1 in the learning log"):
        log.remove(ADMIN, 1)
    with pytest.raises(NoteError, match="'one' is not a note number"):
        log.remove(ADMIN, "one")


def test_concurrent_writers_and_readers_lose_nothing(project):
    """The dashboard's 8 waitress threads, each with its own connection per call, while readers
    list: every note is kept once, none fails with 'database is locked'."""
    threads, per_thread = 8, 25
    errors: list[BaseException] = []
    start = threading.Barrier(threads + 2)

    def write(number: int) -> None:
        log = LearningLog.for_project(project)  # a store per request, as the dashboard does
        start.wait()
        try:
            for n in range(per_thread):
                log.add(STEERING, f"2026-10-{1 + n % 28:02d}", f"thread {number} note {n}",
                        "children_enrolled" if n % 2 else None)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def read() -> None:
        log = LearningLog.for_project(project)
        start.wait()
        try:
            for _ in range(50):
                log.list(indicator_code="children_enrolled", user=EARLY)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    workers += [threading.Thread(target=read) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, errors
    notes = LearningLog.for_project(project).list()
    assert len(notes) == threads * per_thread
    assert len({n.id for n in notes}) == len(notes)
    assert {n.text for n in notes} == {f"thread {t} note {n}" for t in range(threads)
                                       for n in range(per_thread)}


# The command line -----------------------------------------------------------------------------
def notes_cli(paths, *args):
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "notes", *args, "--project",
         str(paths.project_dir)], capture_output=True, text=True,
        env={**os.environ, **OFFLINE}, timeout=120)


def test_notes_command_adds_lists_and_removes(sample_paths):
    add_users(sample_paths.project_dir)
    added = notes_cli(sample_paths, "add", "--on", "2026-10-01", "--indicator",
                      "children_enrolled", "--place", "east", "--author", "steering",
                      "Enrolment drive started in Eastfield")
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("Added note 1 (2026-10-01, children_enrolled @ east)")
    assert notes_cli(sample_paths, "add", "--on", "2026-09-01", "--author", "admin", "Data",
                     "system", "changed").returncode == 0
    listed = notes_cli(sample_paths, "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].split()[:3] == ["1", "2026-10-01", "children_enrolled"]
    assert "steering" in lines[0] and lines[0].endswith("Enrolment drive started in Eastfield")
    assert lines[1].endswith("Data system changed") and "whole initiative" in lines[1]
    assert notes_cli(sample_paths, "list", "--from", "2026-09-15").stdout.count("\n") == 1
    # What the command writes, the store (and so the dashboard) reads.
    assert [n.text for n in LearningLog.for_project(sample_paths).list(
        indicator_code="children_enrolled", place_code="east")] == [
        "Enrolment drive started in Eastfield", "Data system changed"]

    refused = notes_cli(sample_paths, "remove", "1", "--user", "wg-early")
    assert refused.returncode == 2
    assert refused.stderr == ("murmuration: note 1 is by steering: only its author or the "
                              "backbone's data team (admin) may remove it\n")
    removed = notes_cli(sample_paths, "remove", "1", "--user", "steering")
    assert removed.returncode == 0 and "Removed note 1" in removed.stdout
    assert notes_cli(sample_paths, "list", "--user", "wg-early").stdout.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    (["add", "--on", "2026-10-01", "--indicator", "immunised_children", "--author", "wg-early",
      "x"], "wg-early may write notes only on the indicators of their working groups "
            "(early_learning), not on immunised_children"),
    (["add", "--on", "2026-10-01", "--author", "brightstart", "x"],
     "partners do not write in the learning log"),
    (["add", "--on", "01/10/2026", "--author", "steering", "x"],
     "the date '01/10/2026' is not a date: write it as YYYY-MM-DD"),
    (["add", "--author", "steering", "--place", "eastfield", "x"],
     "no place 'eastfield' in registry/dimensions.yaml (known: east, north, south, west)"),
    (["add", "--author", "nobody", "x"], "no user 'nobody' in "),
    (["list", "--indicator", "nope"], "no indicator 'nope' in registry/indicators.yaml"),
    (["list", "--user", "littlesteps"], "partners do not see the learning log"),
    (["remove", "7", "--user", "admin"], "no note 7 in the learning log"),
])
def test_notes_command_refuses_in_one_line_with_exit_code_2(project, args, message):
    add_users(project.project_dir)
    completed = notes_cli(project, *args)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert completed.stderr.startswith("murmuration: " + message)
    assert completed.stderr.count("\n") == 1 and "Traceback" not in completed.stderr


def test_the_command_line_and_threads_write_at_the_same_time(project):
    add_users(project.project_dir)
    log = LearningLog.for_project(project)
    log.add(ADMIN, "2026-10-01", "created first")
    processes = [subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom app.cli import main\n"
         "for n in range(15):\n"
         "    assert main(['notes', 'add', '--project', sys.argv[1], '--author', 'steering', "
         "'--on', '2026-10-02', f'cli {sys.argv[2]} note {n}']) == 0\n",
         str(project.project_dir), str(p)], env={**os.environ, **OFFLINE},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for p in range(2)]
    for n in range(40):
        log.add(STEERING, "2026-10-03", f"thread note {n}", "reading_hours")
    for process in processes:
        _, stderr = process.communicate(timeout=180)
        assert process.returncode == 0, stderr
    assert len(log.list()) == 1 + 2 * 15 + 40


# What the dashboard's pages call --------------------------------------------------------------
def test_notes_frame_for_chart_markers_and_lists(project, log, monkeypatch):
    monkeypatch.setenv("MURMURATION_PROJECT_DIR", str(project.project_dir))
    monkeypatch.delenv("MURMURATION_STATE_DIR", raising=False)
    from dashboards.components.learning_log import notes_frame, notes_section

    assert notes_frame("children_enrolled", "all", STEERING).empty  # no log yet
    log.add(STEERING, "2026-10-01", "enrolment drive", "children_enrolled", "east")
    log.add(ADMIN, "2026-09-01", "data system changed")
    log.add(STEERING, "2026-11-01", "clinic closed", "immunised_children", "south")
    frame = notes_frame("children_enrolled", "all", EARLY)
    assert list(frame.columns[:4]) == ["id", "noted_on", "text", "author"]
    assert frame["noted_on"].tolist() == [pd.Timestamp("2026-10-01"), pd.Timestamp("2026-09-01")]
    assert frame["scope"].tolist() == ["Children enrolled, Eastfield", "Whole initiative"]
    assert frame["author"].tolist() == ["steering", "admin"]
    assert notes_frame("children_enrolled", "north", EARLY)["text"].tolist() == [
        "data system changed"]
    assert notes_frame(None, None, STEERING)["text"].tolist() == [
        "clinic closed", "enrolment drive", "data system changed"]
    assert notes_frame(None, None, EARLY)["text"].tolist() == [
        "enrolment drive", "data system changed"]
    # Another group's indicator, an unknown code, a partner: nothing (and the same columns).
    for empty in (notes_frame("immunised_children", "all", EARLY),
                  notes_frame("no_such_indicator", "all", STEERING),
                  notes_frame("children_enrolled", "all", PARTNER)):
        assert empty.empty and list(empty.columns) == list(frame.columns)
    # The section: a form for who may write here, nothing for a partner.
    assert "learning-log-form" in str(notes_section("children_enrolled", "east", EARLY))
    assert notes_section("children_enrolled", "east", PARTNER).hidden is True
