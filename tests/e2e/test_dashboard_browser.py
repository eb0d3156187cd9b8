"""The dashboard in a real headless browser (Debian's chromium), against the published sample."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import signed_in_page

pytestmark = pytest.mark.browser

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
