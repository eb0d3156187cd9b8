"""The "What changed" page in headless chromium, after two real runs of the sample with files
changed in between (tests/digest/scenario.py): what the steering committee, a working group and
the backbone see, and that a partner does not get the page. Screenshot:
artifacts/changes_page.png (the steering committee's view)."""

from __future__ import annotations

import pytest

from murmuration import digest
from murmuration.formatting import format_datetime, format_value
from tests.conftest import add_users
from tests.digest.scenario import BRIGHTSTART_FIX, LIBRARY_FIX
from tests.e2e.conftest import dashboard_server, signed_in_page

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def runs(two_sample_runs):
    result = two_sample_runs
    add_users(result.paths.project_dir)
    return result


@pytest.fixture(scope="module")
def url(runs):
    with dashboard_server(runs.paths) as address:
        yield address


@pytest.fixture(scope="module")
def changes(runs):
    kept = digest.list_snapshots(runs.paths.state_dir)
    return digest.compute_changes(*(digest.load_snapshot(runs.paths.state_dir, s["key"])
                                    for s in kept))


def nav(page) -> list[str]:
    return page.locator("header nav a").all_text_contents()


def text(page, selector: str) -> str:
    return page.locator(selector).text_content()


def test_steering_sees_what_changed_since_the_previous_run(browser, url, runs, changes,
                                                           artifacts):
    errors = []
    page = signed_in_page(browser, url, "steering", "/changes")
    page.on("pageerror", lambda error: errors.append(str(error)))
    assert "What changed" in nav(page)
    page.wait_for_selector("#changes-revised-table", timeout=30_000)
    assert "(the previous run)" in text(page, "#changes-since")
    assert format_datetime(runs.first_published) in text(page, "#changes-since")
    assert text(page, "#changes-headline").startswith("3 new submissions")
    submissions = text(page, "#changes-submissions")
    for name in ("Little Steps Playgroups", "City Library Service", "BrightStart Nurseries"):
        assert name in submissions
    assert "replaces 1 earlier file" in submissions
    [whole] = [r for r in changes.revised_totals if (r["indicator_code"], r["place_code"],
                                                     r["period"]) == ("children_enrolled", "all",
                                                                      "2026-10")]
    rows = page.locator("#changes-revised-table tbody tr").all_text_contents()
    row = next(r for r in rows if r.startswith("Children enrolledWhole areaOct 2026"))
    assert format_value(whole["value_from"], 0, "children") in row
    assert format_value(whole["value_to"], 0, "children") in row
    assert "BrightStart Nurseries" in row
    milestone = text(page, "#changes-milestones")
    assert "Milestone Jun 2025" in milestone
    assert ("Met" if changes.milestones[0]["met"] else "Missed") in milestone
    # Flags as counts, never a partner's values; no file names anywhere.
    flags = text(page, "#changes-flags-raised")
    assert "Values flagged" in flags and "BrightStart" not in flags
    assert "Outlier (extreme)" in text(page, "#changes-flags-resolved")
    late = text(page, "#changes-late")
    assert "Nov 2026" in late and "not received" in late
    assert "Little Steps Playgroups" in text(page, "#changes-received")
    body = text(page, "main")
    assert BRIGHTSTART_FIX not in body and LIBRARY_FIX not in body
    assert page.locator("#changes-digest").count() == 0  # the digest link is the backbone's
    assert page.context.request.get(f"{url}/digest/latest.html").status == 404
    page.screenshot(path=str(artifacts / "changes_page.png"), full_page=True)
    assert errors == []
    page.context.close()


def test_a_day_chosen_compares_with_the_snapshot_before_it(browser, url, runs):
    page = signed_in_page(browser, url, "steering", "/changes?since=2000-01-01")
    page.wait_for_selector("#changes-revised-table", timeout=30_000)
    # Nothing older is kept: the earliest snapshot is the one compared with.
    assert format_datetime(runs.first_published) in text(page, "#changes-since")
    page.context.close()


def test_a_working_group_sees_its_own_indicators(browser, url):
    page = signed_in_page(browser, url, "wg-early", "/changes")
    page.wait_for_selector("#changes-revised-table", timeout=30_000)
    revised = text(page, "#changes-revised-table")
    assert "Children enrolled" in revised and "Shared reading hours" in revised
    assert "Indicators of your working groups only" in text(page, "#changes-content")
    assert page.locator("#changes-digest").count() == 0
    page.context.close()


def test_the_backbone_sees_files_and_the_digest(browser, url):
    page = signed_in_page(browser, url, "admin", "/changes")
    page.wait_for_selector("#changes-submissions-table", timeout=30_000)
    submissions = text(page, "#changes-submissions-table")
    assert BRIGHTSTART_FIX in submissions and LIBRARY_FIX in submissions
    assert "BrightStart Nurseries" in text(page, "#changes-flags-raised-table")
    with page.context.expect_page() as opened:
        page.get_by_text("Open the e-mail digest of the last run").click()
    mail = opened.value
    mail.wait_for_load_state()
    assert mail.locator("h1").text_content() == "What changed"
    assert BRIGHTSTART_FIX not in mail.locator("body").text_content()
    mail.close()
    page.context.close()


def test_partners_do_not_get_the_page(browser, url):
    page = signed_in_page(browser, url, "brightstart", "/")
    assert "What changed" not in nav(page)
    page.goto(f"{url}/changes")
    page.wait_for_selector("text=This page is for the steering committee", timeout=30_000)
    assert page.locator("#changes-content").count() == 0
    assert page.context.request.get(f"{url}/digest/latest.html").status == 404
    page.context.close()
