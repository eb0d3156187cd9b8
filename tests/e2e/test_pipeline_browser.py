"""The backbone's pipeline status page and a partner's feedback pack, in headless chromium, on the
sample run (the real pipeline, the real dashboard server)."""

from __future__ import annotations

import pytest

from murmuration.intake import reasons
from murmuration.sample_inbox import PLANTED
from tests.conftest import SAMPLE
from tests.e2e.conftest import signed_in_page

pytestmark = pytest.mark.browser


def test_admin_sees_the_last_run_freshness_unreadable_files_and_checks(
        browser, dashboard_url, sample_run, artifacts):
    page = signed_in_page(browser, dashboard_url, "admin", "/pipeline")
    page.wait_for_selector("#pipeline-freshness", timeout=60_000)
    assert page.locator("nav a", has_text="Pipeline").count() == 1

    # The last run: the sample's, recorded in its Dagster instance, and what it did to the files.
    assert page.locator("#pipeline-outcome").text_content() == "Succeeded"
    assert page.locator("#pipeline-run-files").text_content() == (
        f"{SAMPLE.files} ({SAMPLE.landed} landed, {SAMPLE.unreadable} could not be read, "
        f"{SAMPLE.ignored} set aside (not submissions))")
    assert page.locator("#pipeline-run-quarantined").text_content().startswith(
        f"{SAMPLE.quarantined} rows in ")
    link = page.locator("#pipeline-run-link").get_attribute("href")
    assert link.startswith("http://127.0.0.1:3000/runs/") and len(link.rsplit("/", 1)[1]) == 36
    assert page.locator("#pipeline-runs").get_by_text(link.rsplit("/", 1)[1][:8]).count() == 1

    # Freshness: a row per partner; the parents' missing month is overdue, dates for people.
    freshness = page.locator("#pipeline-freshness")
    assert freshness.locator("tbody tr").count() == 1 + 9  # the header row, then every partner
    parents = freshness.locator("tr", has_text="Parents Together")
    assert "1 (latest 2025-08)" in parents.text_content()
    assert "parents_together_2026-10.xlsx" in parents.text_content()
    assert "15 Dec 2026" in parents.text_content()  # next due: 2026-11 ends + 15 days
    bright = freshness.locator("tr", has_text="BrightStart Nurseries").text_content()
    assert "20 Nov 2026, 10:30 UTC" in bright and "2026-11" in bright

    # The sample's unreadable files, with the partner's plain reason and the detail apart.
    unreadable = page.locator("#pipeline-unreadable")
    damaged = unreadable.locator("tr", has_text="/".join(PLANTED["damaged_workbook"][:2]))
    assert reasons.EXCEL_DAMAGED in damaged.text_content()
    assert "Could not find EOCD" in damaged.text_content()
    empty = unreadable.locator("tr", has_text="/".join(PLANTED["empty_file"][:2]))
    assert reasons.EMPTY in empty.text_content() and "0 bytes" in empty.text_content()
    assert "an Excel lock file" in unreadable.text_content()
    assert "The file the file" not in unreadable.text_content()
    assert page.locator("#pipeline-unmapped").text_content() == (
        "None: a mapping covers every file that was read.")

    # Failed checks: the warning the GX suite raised, linked into Dagster, and its values.
    checks = page.locator("#pipeline-checks")
    assert "submissions_meet_definitions" in checks.text_content()
    assert checks.locator("a").first.get_attribute("href") == (
        "http://127.0.0.1:3000/assets/submission_expectations?view=checks")
    expectations = page.locator("#pipeline-expectations").text_content()
    assert "brightstart_enrolment_2025-02.csv" in expectations
    assert "the value is within the valid range" in expectations
    # Tables in the page's font, and the page fits the window.
    font = page.locator("#pipeline-freshness td").first.evaluate(
        "cell => getComputedStyle(cell).fontFamily")
    assert "monospace" not in font
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=str(artifacts / "pipeline_page.png"), full_page=True)
    page.context.close()


def test_steering_does_not_get_the_pipeline_page(browser, dashboard_url):
    page = signed_in_page(browser, dashboard_url, "steering", "/pipeline")
    page.wait_for_selector("#pipeline-not-allowed", timeout=30_000)
    assert page.locator("nav a", has_text="Pipeline").count() == 0
    assert page.locator("#pipeline-freshness").count() == 0
    assert "damaged" not in page.content()
    page.context.close()


def test_feedback_pack_fits_1280_px_in_the_page_font_with_none_for_empty_sections(
        browser, dashboard_url, artifacts):
    page = signed_in_page(browser, dashboard_url, "admin", "/")
    # Parents Together: nothing quarantined, and its damaged workbook listed in plain words.
    page.goto(f"{dashboard_url}/feedback/parents_together/index.html")
    page.wait_for_selector("h1")
    assert page.locator("h1").text_content() == "Parents Together"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert page.locator("[data-part=quarantined]").text_content().startswith("None.")
    assert page.locator("table[data-part=quarantined]").count() == 0
    fonts = set(page.locator("td, th").evaluate_all(
        "cells => cells.map(cell => getComputedStyle(cell).fontFamily)"))
    assert all("sans-serif" in font and "monospace" not in font for font in fonts)
    submissions = page.locator("table[data-part=submissions]")
    damaged = submissions.locator("tr", has_text="2025-08.xlsx")
    assert "could not be read" in damaged.text_content()
    assert reasons.EXCEL_DAMAGED in damaged.text_content()
    assert "calamine" not in page.content() and "EOCD" not in page.content()
    # Counts as integers, human column names, no field names.
    overall = page.locator("[data-part=overall]").text_content()
    assert " outliers" in overall and ".0 outliers" not in overall
    # The flags table, on a pack that has flags (moderate outliers are flagged only when they
    # persist: Parents Together's two single crossings no longer are).
    page.goto(f"{dashboard_url}/feedback/little_steps/index.html")
    page.wait_for_selector("table[data-part=flags]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    headers = page.locator("th").all_text_contents()
    assert "What it means" in headers and "Expected" in headers
    for field in ("place_code", "expected_low", "example_file", "row_number"):
        assert field not in headers
    # The column that explains a flag has room to be read (it was 60 px wide).
    meaning = page.locator("table[data-part=flags] td.text").first
    assert meaning.evaluate("cell => cell.getBoundingClientRect().width") >= 200
    page.screenshot(path=str(artifacts / "feedback_pack.png"), full_page=True)

    # Little Steps: quarantined rows with partner text as text, still within 1,280 px.
    page.goto(f"{dashboard_url}/feedback/little_steps/index.html")
    page.wait_for_selector("table[data-part=quarantined]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert page.locator("td", has_text="<b onmouseover=alert(1)>Northgate</b>").count() >= 1
    assert page.locator("b[onmouseover]").count() == 0
    page.context.close()
