"""The dashboard in a real headless browser (Debian's chromium), against the published sample."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

import pytest

from murmuration.environment import OFFLINE
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


@contextmanager
def dashboard_server(paths):
    """The dashboard's real server (waitress) for an initiative, on a free port."""
    port = free_port()
    env = {**os.environ, **OFFLINE, "MURMURATION_PROJECT_DIR": str(paths.project_dir),
           "MURMURATION_STATE_DIR": str(paths.state_dir)}
    env.pop("MURMURATION_SERVING", None)
    server = subprocess.Popen([sys.executable, "-m", "dashboards.app", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/login")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def dashboard_url(sample_run, sample_users):
    assert sample_run.returncode == 0, sample_run.stdout + sample_run.stderr
    with dashboard_server(sample_run.paths) as url:
        yield url


def signed_in_page(browser, url: str, username: str, path: str = "/"):
    """A new browser page (its own cookies) signed in as ``username`` through the form."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{url}{path}")
    page.wait_for_selector("#username", timeout=30_000)
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_selector("#signed-in-as", timeout=30_000)
    return page


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed (make test installs it with apt)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield browser
        browser.close()


def test_milestone_page_draws_the_chart(browser, dashboard_url, artifacts):
    errors = []
    page = signed_in_page(browser, dashboard_url, "steering",
                          "/milestones?indicator=children_enrolled&place=east")
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.wait_for_selector("#milestone-chart .scatterlayer .trace", timeout=30_000)
    page.wait_for_function(
        "document.querySelector('#milestone-chart .gtitle')?.textContent.includes('At risk')",
        timeout=30_000)
    traces = page.locator("#milestone-chart .scatterlayer .trace").count()
    # actual, the months not complete, planned path, baseline, target (east has no
    # milestones), trend
    assert traces == 6
    assert page.locator("#milestone-chart .gtitle").text_content() == "Children enrolled - At risk"
    status = page.locator("#milestone-status").text_content()
    assert "At risk" in status and "Left out as not complete: 2026-11" in status
    assert "Not complete (left out of status)" in page.locator(
        "#milestone-chart .legend").text_content()
    # The early month is a hollow point whose hover says why it does not count.
    # (Plotly's drag layer sits on top of the points: move the mouse there, as a person does.)
    point = page.locator("#milestone-chart .scatterlayer .trace").nth(1).locator(".point").last
    box = point.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#milestone-chart .hovertext", timeout=10_000)
    hover = page.locator("#milestone-chart .hovertext").text_content()
    assert "1 of 3 partners reported, due 2026-12-15 (not yet due" in hover
    page.screenshot(path=str(artifacts / "milestone_page.png"), full_page=True)

    # Choosing another indicator redraws the chart through the callback.
    page.locator("#milestone-indicator").click()
    page.get_by_text("Families in temporary housing (Family support and housing)").click()
    page.locator("#milestone-place").click()
    page.get_by_role("option", name="Whole area").click()
    page.wait_for_function(
        "document.querySelector('#milestone-chart .gtitle')?.textContent.includes('Off track')",
        timeout=30_000)
    assert errors == []
    page.context.close()


def test_overview_shows_every_status(browser, dashboard_url, artifacts):
    page = signed_in_page(browser, dashboard_url, "steering")
    page.wait_for_selector(".status-table", timeout=30_000)
    badges = page.locator("[data-status]").all_text_contents()
    assert sorted(badges) == ["At risk", "At risk", "Off track", "On track", "On track",
                              "On track"]
    assert page.locator("#initiative-name").text_content() == "Riverside Early Years Partnership"
    page.screenshot(path=str(artifacts / "overview_page.png"), full_page=True)
    page.get_by_role("link", name="Families in temporary housing").click()
    page.wait_for_selector("#milestone-chart .scatterlayer .trace", timeout=30_000)
    assert "indicator=families_in_temporary_housing" in page.url
    page.context.close()


def test_quality_page_and_feedback_pack(browser, dashboard_url, artifacts):
    page = signed_in_page(browser, dashboard_url, "admin", "/quality?partner=little_steps")
    page.wait_for_selector("#quality-chart .barlayer .trace", timeout=30_000)
    assert "2025-03 (42 days)" in page.locator("#quality-late").text_content()
    page.screenshot(path=str(artifacts / "quality_page.png"), full_page=True)
    with page.context.expect_page() as opened:
        page.get_by_text("Open this partner's feedback pack").click()
    pack = opened.value
    pack.wait_for_load_state()
    assert pack.locator("h1").text_content() == "Little Steps Playgroups"
    # Partner text shows as text, never as markup.
    assert pack.locator("td", has_text="<b onmouseover=alert(1)>Northgate</b>").count() >= 1
    assert pack.locator("b[onmouseover]").count() == 0
    pack.close()
    page.context.close()
