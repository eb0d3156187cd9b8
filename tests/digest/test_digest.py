"""What changed between two real runs of the sample (tests/digest/scenario.py): the records kept
after each publish, the pure diff between them, what each audience sees, and the e-mail digest
the second run wrote."""

from __future__ import annotations

import shutil

import pytest

from murmuration import digest
from murmuration.formatting import format_change, format_value
from tests.digest.scenario import BRIGHTSTART_FIX, LIBRARY_FIX


@pytest.fixture(scope="module")
def runs(two_sample_runs):
    return two_sample_runs


@pytest.fixture(scope="module")
def records(runs):
    state = runs.paths.state_dir
    kept = digest.list_snapshots(state)
    assert [s["published_at"] for s in kept] == [runs.first_published, runs.second_published]
    return digest.load_snapshot(state, kept[0]["key"]), digest.load_snapshot(state, kept[1]["key"])


@pytest.fixture(scope="module")
def changes(records):
    return digest.compute_changes(*records)


def total(snapshot, indicator, place, period) -> float:
    t = snapshot["totals"]
    [value] = t[(t.indicator_code == indicator) & (t.place_code == place)
                & (t.period == period) & (t.period_type == "month")]["value"].tolist()
    return value


def revised(changes, indicator, place, period) -> dict:
    [row] = [r for r in changes.revised_totals if (r["indicator_code"], r["place_code"],
                                                   r["period"]) == (indicator, place, period)]
    return row


def test_a_record_is_kept_per_publish_and_the_same_record_compares_empty(records):
    first, second = records
    assert first.period_type == "month" and second.initiative_name == first.initiative_name
    assert len(second["submissions"]) == len(first["submissions"]) + 3
    same = digest.compute_changes(second, second)
    assert same.nothing and digest.headline(same).startswith("Nothing new since ")
    assert digest.compute_changes(None, second).since is None


def test_new_submissions_and_what_they_replace(changes):
    new = {(s["partner_name"], s["first_period"]): s for s in changes.new_submissions}
    assert set(new) == {("Little Steps Playgroups", "2025-06"),
                        ("City Library Service", "2025-06"),
                        ("BrightStart Nurseries", "2026-10")}
    assert new[("City Library Service", "2025-06")]["file_name"] == LIBRARY_FIX
    assert new[("City Library Service", "2025-06")]["replaces"] == 1
    assert new[("BrightStart Nurseries", "2026-10")]["file_name"] == BRIGHTSTART_FIX
    assert new[("BrightStart Nurseries", "2026-10")]["replaces"] == 1
    assert new[("Little Steps Playgroups", "2025-06")]["replaces"] == 0
    assert all(s["landing_status"] == "landed" for s in changes.new_submissions)


def test_revised_totals_say_from_to_and_who(runs, records, changes):
    first, second = records
    north = revised(changes, "children_enrolled", "north", "2026-10")
    assert north["value_from"] == total(first, "children_enrolled", "north", "2026-10")
    assert north["value_to"] == north["value_from"] + runs.northgate_added
    assert north["revised_by"] == ["BrightStart Nurseries"]
    west = revised(changes, "children_enrolled", "west", "2026-10")
    assert west["value_to"] - west["value_from"] == runs.westmoor_added
    whole = revised(changes, "children_enrolled", "all", "2026-10")
    assert whole["change"] == runs.northgate_added + runs.westmoor_added
    assert whole["value_to"] == total(second, "children_enrolled", "all", "2026-10")
    assert len(whole["reported_by"]) == whole["partners_reporting"] == 3
    # The east and south of October did not change: not listed.
    assert not [r for r in changes.revised_totals if r["period"] == "2026-10"
                and r["place_code"] in ("east", "south")]
    # Northgate's June reading hours: the library's correction, and Little Steps' part arrived.
    library = revised(changes, "reading_hours", "north", "2025-06")
    parts = second["contributions"]
    [little_steps] = parts[(parts.indicator_code == "reading_hours") & (parts.place_code == "north")
                           & (parts.period == "2025-06")
                           & (parts.partner_code == "little_steps")]["value_sum"].tolist()
    assert library["value_from"] == total(first, "reading_hours", "north", "2025-06")
    assert library["value_to"] - library["value_from"] == pytest.approx(
        little_steps - runs.library_removed_hours)
    assert library["revised_by"] == ["City Library Service", "Little Steps Playgroups"]
    # June 2025 was incomplete without Little Steps (2 of 3 partners): now complete.
    june = revised(changes, "children_enrolled", "all", "2025-06")
    assert (june["state_from"], june["state_to"]) == ("incomplete", "complete")
    assert june["revised_by"] == ["Little Steps Playgroups"]
    assert (june["partners_reporting"], june["partners_expected"]) == (3, 3)
    assert june["value_to"] > june["value_from"]
    # Nothing else moved.
    assert {(r["indicator_code"], r["period"]) for r in changes.revised_totals} == {
        ("children_enrolled", "2026-10"), ("reading_hours", "2025-06"),
        ("children_enrolled", "2025-06")}


def test_a_milestone_whose_month_is_now_complete_is_judged(records, changes):
    first, second = records
    targets = second["targets"]
    [target] = targets[(targets.indicator_code == "children_enrolled")
                       & (targets.place_code == "all") & (targets.period == "2025-06")
                       ]["target_value"].tolist()
    actual = total(second, "children_enrolled", "all", "2025-06")
    [milestone] = changes.milestones
    assert (milestone["indicator_code"], milestone["place_code"], milestone["kind"],
            milestone["period"]) == ("children_enrolled", "all", "milestone", "2025-06")
    assert milestone["target"] == target and milestone["actual"] == actual
    assert milestone["met"] is (actual >= target)  # higher is better
    assert milestone["before"] == "not complete"


def test_statuses_that_changed_are_exactly_those_that_differ(records, changes):
    first, second = records
    was = {(r.indicator_code, r.place_code): r.status for r in first["milestones"].itertuples()}
    now = {(r.indicator_code, r.place_code): r.status for r in second["milestones"].itertuples()}
    expected = {key: (was.get(key), now.get(key)) for key in was.keys() | now.keys()
                if was.get(key) != now.get(key)}
    assert {(r["indicator_code"], r["place_code"]): (r["status_from"], r["status_to"])
            for r in changes.status_changes} == expected


def test_flags_raised_and_resolved(changes):
    raised = {(f["partner_code"], f["indicator_code"], f["period"], f["place_code"], f["rule"])
              for f in changes.flags_raised}
    assert ("brightstart", "children_enrolled", "2026-10", "west", "outlier") in raised
    # A partner's new values change its own history, so outliers judged against it move too;
    # flags move only for the partners that sent something.
    senders = {s["partner_code"] for s in changes.new_submissions}
    assert {f["partner_code"] for f in changes.flags_raised + changes.flags_resolved} <= senders
    resolved = {(f["partner_code"], f["indicator_code"], f["period"], f["place_code"], f["rule"],
                 f["value"]) for f in changes.flags_resolved}
    assert ("library_service", "reading_hours", "2025-06", "north", "outlier", 385.0) in resolved


def test_reports_newly_late_or_missing_and_now_received(records, changes):
    first, second = records
    reports = second["reports"]
    due = reports[(reports.report_period == "2026-11") & reports.expected & ~reports.received]
    assert len(due) >= 5
    late = {(r["partner_code"], r["period"], r["state"], r["before"])
            for r in changes.reports_late}
    # Not there at all before (a month starts to be expected when its report is due).
    assert late == {(code, "2026-11", "missing", "none") for code in due.partner_code}
    assert "brightstart" not in set(due.partner_code)  # it sent November early
    [received] = changes.reports_received
    assert (received["partner_name"], received["period"], received["before"]) == (
        "Little Steps Playgroups", "2025-06", "missing")


def test_each_audience_sees_its_part(changes):
    steering = digest.scoped(changes, file_names=False, flag_rows=False, groups=None)
    assert all(s["file_name"] is None for s in steering.new_submissions)
    assert all(set(f) >= {"flags", "rule"} and "partner_code" not in f
               for f in steering.flags_raised + steering.flags_resolved)
    assert steering.counts()["flags raised"] == len(changes.flags_raised)
    group = digest.scoped(changes, file_names=False, flag_rows=False,
                          groups=("family_support",))
    assert group.revised_totals == [] and group.milestones == []
    early = digest.scoped(changes, file_names=False, flag_rows=False,
                          groups=("early_learning",))
    assert len(early.revised_totals) == len(changes.revised_totals)
    admin = digest.scoped(changes, file_names=True, flag_rows=True, groups=None)
    files = [row["file"] for row in digest.sections(admin)[0].rows]
    assert BRIGHTSTART_FIX in files and LIBRARY_FIX in files


def test_the_digest_names_what_changed_for_the_steering_committee(runs, records, changes):
    state = runs.paths.state_dir
    latest = digest.digest_dir(state) / "latest.html"
    dated = digest.digest_dir(state) / f"digest-{records[1].key}.html"
    html = latest.read_text(encoding="utf-8")
    assert dated.read_text(encoding="utf-8") == html
    assert "<script" not in html and "<link" not in html  # self-contained
    assert "max-width: 640px" in html
    assert "Riverside Early Years Partnership" in html
    assert "3 new submissions" in html
    # No file names, no partner's flagged values.
    for name in (BRIGHTSTART_FIX, LIBRARY_FIX, "little_steps_2025-06.csv"):
        assert name not in html
    whole = revised(changes, "children_enrolled", "all", "2026-10")
    for text in (format_value(whole["value_from"], 0, "children"),
                 format_value(whole["value_to"], 0, "children"),
                 format_change(whole["change"], 0, "children"), "Oct 2026", "Jun 2025",
                 "Little Steps Playgroups", "City Library Service", "BrightStart Nurseries",
                 "Milestone Jun 2025", "Met" if changes.milestones[0]["met"] else "Missed",
                 "Outlier (extreme)", "not received", "Nov 2026"):
        assert text in html, text
    assert "Since the snapshot published" in html
    # The run summary points at it.
    assert "What changed: 3 new submissions" in runs.second_stdout
    assert str(latest) in runs.second_stdout


def test_since_a_date_and_pruning(runs, records, tmp_path):
    kept = digest.list_snapshots(runs.paths.state_dir)
    first, second = records
    assert digest.previous_key(kept, second.key) == first.key
    assert digest.previous_key(kept, first.key) is None
    # Since the day after the first run: the first run is the latest before that day.
    assert digest.key_for_date(kept, "2099-01-01", second.key) == first.key
    assert digest.key_for_date(kept, "2000-01-01", second.key) == first.key  # the earliest kept
    assert digest.load_snapshot(runs.paths.state_dir, "../../etc") is None
    # Pruning keeps the newest.
    state = tmp_path / "state"
    shutil.copytree(digest.history_dir(runs.paths.state_dir), digest.history_dir(state))
    digest.record_snapshot(runs.paths.serving, state, keep=1)
    assert [s["key"] for s in digest.list_snapshots(state)] == [second.key]
