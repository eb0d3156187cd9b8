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
    # Breakdowns by age band and sex (the place is chosen), each partner's part.
    page.wait_for_selector("#breakdown-chart .scatterlayer .trace", timeout=30_000)
    titles = page.locator("#breakdown-chart .gtitle").all_text_contents()
    assert titles == ["By age band", "By sex"]
    assert sorted(page.locator("#contribution-chart .legendtext").all_text_contents()) == [
        "BrightStart Nurseries", "Little Steps Playgroups", "Parents Together"]
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


def test_overview_shows_every_indicator_as_a_tile(browser, dashboard_url, artifacts):
    page = signed_in_page(browser, dashboard_url, "steering")
    page.wait_for_selector(".tile", timeout=30_000)
    assert page.locator(".tile").count() == 10
    groups = page.locator(".tile-group h3").all_text_contents()
    assert groups == ["Early learning", "Family support and housing", "Child health"]
    badges = page.locator("[data-status]").all_text_contents()
    assert sorted(badges) == ["At risk", "At risk", "No targets set", "No targets set",
                              "No targets set", "No targets set", "Off track", "Off track",
                              "On track", "On track", "On track"]
    # A median fee says what it is over, and shows no partner parts (its indicator page).
    fee = page.locator(".tile[data-indicator=weekly_childcare_fee]")
    assert fee.locator(".tile-reported").text_content() == (
        "Median of 4 values; 1 of 1 partner reported")
    enrolled = page.locator(".tile[data-indicator=children_enrolled]")
    assert enrolled.locator(".tile-value").text_content() == "1,901 children"
    assert enrolled.locator(".tile-change").text_content() == "+7 children since Sep 2026"
    assert enrolled.locator(".tile-reported").text_content() == "3 of 3 partners reported"
    assert "1 not complete" in enrolled.locator(".tile-sparkline").get_attribute("alt")
    assert "UTC" in page.locator("#published-at").text_content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert page.locator("#initiative-name").text_content() == "Riverside Early Years Partnership"
    page.screenshot(path=str(artifacts / "overview_page.png"), full_page=True)
    page.get_by_role("link", name="Families in temporary housing").click()
    page.wait_for_selector("#milestone-chart .scatterlayer .trace", timeout=30_000)
    assert "indicator=families_in_temporary_housing" in page.url
    page.context.close()


def test_indicator_page_lineage_and_notes_on_the_chart(browser, dashboard_url, artifacts):
    """Clicking a point lists the values behind it with file, row and column; a note added
    below the chart appears on it as a marker."""
    page = signed_in_page(browser, dashboard_url, "admin",
                          "/milestones?indicator=children_enrolled&place=all")
    page.wait_for_selector("#milestone-chart .scatterlayer .trace .point", timeout=30_000)
    # May 2025: revised by BrightStart's corrected file (its hover says so).
    actual = page.locator("#milestone-chart .scatterlayer .trace").first.locator(".point")
    point = actual.nth(6)
    box = point.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#milestone-chart .hovertext", timeout=10_000)
    hover = page.locator("#milestone-chart .hovertext").text_content()
    assert "May 2025" in hover and "Revised by a later file from BrightStart Nurseries" in hover
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#lineage-table", timeout=30_000)
    assert page.locator("#lineage-title").text_content() == (
        "May 2025: 1,557 children from 3 partners")
    table = page.locator("#lineage-table").text_content()
    assert "brightstart_enrolment_2025-05_corrected.csv" in table and "Count" in table
    page.fill("#learning-log-text", "Enrolment drive started in Eastfield (browser test)")
    page.fill("#learning-log-date", "2 Mar 2026")
    page.press("#learning-log-date", "Tab")
    page.click("#learning-log-add")
    page.wait_for_function(
        "[...document.querySelectorAll('#milestone-chart .annotation-text')]"
        ".some(a => a.textContent.includes('\u270e'))", timeout=30_000)
    assert "Enrolment drive started in Eastfield" in page.locator(
        "#learning-log-list").text_content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=str(artifacts / "indicator_page.png"), full_page=True)
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


def test_a_median_price_page_says_how_it_rolls_up_and_shows_no_partner_parts(
        browser, dashboard_url, artifacts):
    errors = []
    page = signed_in_page(browser, dashboard_url, "steering",
                          "/milestones?indicator=weekly_childcare_fee&place=all")
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.wait_for_selector("#milestone-chart .scatterlayer .trace", timeout=30_000)
    page.wait_for_selector("#contributions-not-parts", timeout=30_000)
    assert "not a sum" in page.locator("#contributions-not-parts").text_content()
    assert "The median across partners and places; for a quarter or year, the mean of its " \
           "months (per series)." in page.locator("#indicator-aggregation").text_content()
    # By place: each ward's own median (the city's row is the file's total, not a fifth ward).
    page.wait_for_selector("#breakdown-chart .scatterlayer .trace", timeout=30_000)
    assert page.locator("#breakdown-chart .gtitle").all_text_contents() == ["By place"]
    page.screenshot(path=str(artifacts / "median_price_page.png"), full_page=True)
    assert errors == []
    page.context.close()
