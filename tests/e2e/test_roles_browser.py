"""Each role signed in, in headless chromium: what it sees and what it does not, and a partner
sending a file through the portal until it is published. Screenshots of each role's view are
saved in artifacts/ (roles_<user>_<page>.png)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.summary import EXIT_CLEAN, EXIT_NOT_READ
from murmuration.environment import OFFLINE
from murmuration.paths import AS_OF_ENV, SAMPLE_PROJECT_DIR
from murmuration.sample_inbox import generate_sample_inbox
from tests.conftest import SAMPLE_AS_OF, add_users, copy_initiative
from tests.e2e.conftest import dashboard_server, signed_in_page

pytestmark = pytest.mark.browser


def run_pipeline(paths, expected: int = EXIT_CLEAN) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "app.cli", "run", "--project", str(paths.project_dir)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, **OFFLINE, AS_OF_ENV: SAMPLE_AS_OF})
    assert completed.returncode == expected, completed.stdout[-3000:] + completed.stderr[-3000:]


@pytest.fixture(scope="module")
def portal_project(tmp_path_factory, dbt_manifest):
    """Its own copy of the sample (the upload test changes what is published)."""
    paths = copy_initiative(SAMPLE_PROJECT_DIR, tmp_path_factory.mktemp("portal") / "sample")
    generate_sample_inbox(paths)
    run_pipeline(paths, EXIT_NOT_READ)  # the sample plants two files that cannot be read
    add_users(paths.project_dir)
    return paths


@pytest.fixture(scope="module")
def url(portal_project):
    with dashboard_server(portal_project) as address:
        yield address


def nav(page) -> list[str]:
    return page.locator("header nav a").all_text_contents()


def test_sign_in_page_is_all_a_visitor_sees(browser, url, artifacts):  # noqa: F811
    page = browser.new_page()
    page.goto(f"{url}/quality")
    page.wait_for_selector("#username")
    assert "/login?next=/quality" in page.url
    assert page.locator("#initiative-name").count() == 0
    page.fill("#username", "admin")
    page.fill("#password", "a wrong password")
    page.click("#sign-in")
    assert page.locator(".signin-message").text_content() == "Wrong user name or password."
    page.screenshot(path=str(artifacts / "roles_visitor_sign_in.png"), full_page=True)
    page.close()


def test_admin_sees_everything(browser, url, artifacts):  # noqa: F811
    page = signed_in_page(browser, url, "admin", "/quality?partner=little_steps")
    assert nav(page) == ["Overview", "Indicators", "What changed", "Learning log", "Quality",
                         "Portal", "Pipeline"]
    page.wait_for_selector("#quality-flags", timeout=30_000)
    assert page.get_by_text("Open this partner's feedback pack").count() == 1
    rows = page.locator("#partner-scorecards tbody tr").count()
    assert rows >= 5  # header row + every partner
    page.screenshot(path=str(artifacts / "roles_admin_quality.png"), full_page=True)
    page.goto(f"{url}/portal?partner=little_steps")
    page.wait_for_selector("#portal-history-table", timeout=30_000)
    page.wait_for_selector("#portal-intake h3", timeout=30_000)
    page.screenshot(path=str(artifacts / "roles_admin_portal.png"), full_page=True)
    page.context.close()


def test_steering_sees_scorecards_but_no_partner_rows(browser, url, artifacts):  # noqa: F811
    page = signed_in_page(browser, url, "steering", "/quality?partner=little_steps")
    assert "Portal" not in nav(page)
    assert page.locator("#signed-in-as").text_content() == "steering (Steering committee)"
    page.wait_for_selector("#quality-rows-private", timeout=30_000)
    assert page.locator("#quality-flags").count() == 0
    assert page.get_by_text("Open this partner's feedback pack").count() == 0
    assert "2025-03 (42 days)" in page.locator("#quality-late").text_content()
    page.screenshot(path=str(artifacts / "roles_steering_quality.png"), full_page=True)
    # A pack URL typed in by hand: nothing.
    assert page.context.request.get(f"{url}/feedback/little_steps/quarantined.csv").status == 403
    page.goto(f"{url}/portal")
    page.wait_for_selector("text=The portal is for partners", timeout=30_000)
    page.context.close()


def test_working_group_member_sees_its_own_indicators_in_full(browser, url,  # noqa: F811
                                                              artifacts):
    page = signed_in_page(browser, url, "wg-early", "/milestones")
    page.wait_for_selector("#milestone-chart .scatterlayer .trace", timeout=30_000)
    page.locator("#milestone-indicator").click()
    options = page.locator(".dash-dropdown-option").all_text_contents()
    assert options and all("Early learning" in option for option in options), options
    page.keyboard.press("Escape")
    page.screenshot(path=str(artifacts / "roles_working_group_milestones.png"), full_page=True)
    # The overview still shows every indicator's status.
    page.goto(f"{url}/")
    page.wait_for_selector(".tile", timeout=30_000)
    assert page.get_by_text("Families in temporary housing").count() >= 1
    # Another group's chart, asked for by URL: not drawn; the page says why, with links back.
    page.goto(f"{url}/milestones?indicator=families_in_temporary_housing&place=all")
    page.wait_for_selector("#indicator-not-found", timeout=30_000)
    said = page.locator("#indicator-not-found").text_content()
    assert "not in your working groups" in said and "back to the overview" in said
    assert page.locator("#milestone-chart").count() == 0
    # Found: an unknown place, indicator or page in a URL drew an empty chart or a bare 404.
    page.goto(f"{url}/milestones?indicator=children_enrolled&place=atlantis")
    page.wait_for_selector("#indicator-not-found", timeout=30_000)
    assert "there is no place 'atlantis'" in page.locator("#indicator-not-found").text_content()
    page.goto(f"{url}/no-such-page")
    page.wait_for_selector("#page-not-found", timeout=30_000)
    assert page.get_by_role("link", name="Back to the overview").get_attribute("href") == "/"
    page.context.close()


def test_partner_sees_only_its_own(browser, url, artifacts):  # noqa: F811
    page = signed_in_page(browser, url, "brightstart", "/quality?partner=little_steps")
    page.wait_for_selector("#quality-chart .barlayer .trace", timeout=30_000)
    table = page.locator("#partner-scorecards").text_content()
    assert "BrightStart" in table and "Little Steps" not in table
    assert page.locator("#quality-flags").count() == 1
    page.screenshot(path=str(artifacts / "roles_partner_quality.png"), full_page=True)
    # Another partner's pack and CSV, typed in by hand: nothing.
    # (The browser's own session: the same cookies a person's typed URL would carry.)
    for name in ("index.html", "quarantined.csv"):
        assert page.context.request.get(f"{url}/feedback/little_steps/{name}").status == 403
    assert page.goto(f"{url}/feedback/little_steps/index.html").status == 403
    own = page.context.request.get(f"{url}/feedback/brightstart/quarantined.csv")
    assert own.status == 200 and own.body().startswith(b"\xef\xbb\xbf")
    page.context.close()


def test_partner_uploads_checks_confirms_and_sees_it_published(browser, url,  # noqa: F811
                                                               portal_project, artifacts,
                                                               tmp_path):
    original = portal_project.inbox_dir / "brightstart" / "brightstart_enrolment_2026-10.csv"
    revised = tmp_path / "BrightStart enrolment 2026-10 (revised).csv"
    lines = original.read_text(encoding="utf-8").splitlines()
    first = lines[1].rsplit(",", 1)
    lines[1] = f"{first[0]},{int(first[1]) + 3}"
    revised.write_text("\n".join(lines) + "\n", encoding="utf-8")

    page = signed_in_page(browser, url, "brightstart", "/portal")
    page.wait_for_selector("#portal-history-table", timeout=30_000)
    assert page.locator("#portal-partner").text_content().strip() == "BrightStart Nurseries"
    page.set_input_files("#portal-upload input[type=file]", str(revised))
    page.wait_for_selector("#portal-report", timeout=120_000)
    report = page.locator("#portal-report").text_content()
    assert "Mapping:" in report and "Periods:  2026-10" in report
    assert page.locator(".portal-ready").first.text_content().startswith("Ready")
    replaces = page.locator("#portal-replaces").text_content()
    assert "brightstart_enrolment_2026-10.csv" in replaces
    page.screenshot(path=str(artifacts / "roles_partner_portal_check.png"), full_page=True)
    # Nothing is in the inbox until the partner confirms.
    assert not (portal_project.inbox_dir / "brightstart" / revised.name).exists()
    page.click("#portal-confirm")
    page.wait_for_selector("#portal-sent-message", timeout=30_000)
    assert page.locator("#portal-report").count() == 0  # the check is done with
    delivered = portal_project.inbox_dir / "brightstart" / revised.name
    assert delivered.read_bytes() == revised.read_bytes()
    page.wait_for_selector(f"#portal-history-table >> text={revised.name}", timeout=30_000)
    history = page.locator("#portal-history-table").text_content()
    assert "waiting for the pipeline" in history

    run_pipeline(portal_project, EXIT_NOT_READ)  # what the sensor starts; two still not read
    page.wait_for_function(
        "!document.querySelector('#portal-history-table')?.textContent"
        ".includes('waiting for the pipeline')", timeout=30_000)
    history = page.locator("#portal-history-table").text_content()
    assert "waiting for the pipeline" not in history
    # The revised file is published; the one it replaced says by which file.
    rows = page.locator("#portal-history-table tbody tr").all_text_contents()
    revised_row = next(r for r in rows if r.startswith(revised.name))
    original_row = next(r for r in rows if r.startswith(original.name))
    assert "published" in revised_row
    assert "replaced by a newer file" in original_row and revised.name in original_row
    page.screenshot(path=str(artifacts / "roles_partner_portal_published.png"), full_page=True)

    # A file no mapping covers is told so in words, and the backbone sees it.
    stray = tmp_path / "notes.json"
    stray.write_text('{"hello": "world"}', encoding="utf-8")
    page.set_input_files("#portal-upload input[type=file]", str(stray))
    page.wait_for_function(
        "document.querySelector('#portal-check')?.textContent.includes('notes.json')",
        timeout=120_000)
    text = page.locator("#portal-check").text_content()
    assert "notes.json" in text and page.locator("#portal-check .portal-not-ready").count() == 1
    page.context.close()
