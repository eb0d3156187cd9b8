"""The learning log in headless chromium, against the published sample: the steering committee
adds a note and sees it listed; a working group cannot write on another group's indicator (not
even with a hand-made request); a partner does not get the page. Screenshot:
artifacts/learning_log_page.png.

The sample's server is shared with the session's other browser tests: the notes added here carry
a distinctive marker so no other test mistakes them for its own."""

from __future__ import annotations

import json
import uuid

import pytest

from murmuration.formatting import format_date, today
from murmuration.learning_log import LearningLog
from tests.e2e.conftest import signed_in_page

pytestmark = pytest.mark.browser

MARK = f"[e2e {uuid.uuid4().hex[:8]}]"
ADD_OUTPUTS = "..learning-log-message.children...learning-log-changed.data...learning-log-text.value.."


def nav(page) -> list[str]:
    return page.locator("header nav a").all_text_contents()


def add_request(page, url: str, context: dict, text: str, whole: list[str] | None = None):
    """The Add button's callback, as a hand-made request from this signed-in browser."""
    specs = [dict(zip(("id", "property"), o.split("."), strict=True))
             for o in ADD_OUTPUTS.strip(".").split("...")]
    response = page.context.request.post(f"{url}/_dash-update-component", data={
        "output": ADD_OUTPUTS, "outputs": specs, "changedPropIds": ["learning-log-add.n_clicks"],
        "inputs": [{"id": "learning-log-add", "property": "n_clicks", "value": 1}],
        "state": [{"id": "learning-log-date", "property": "date", "value": "2026-10-05"},
                  {"id": "learning-log-text", "property": "value", "value": text},
                  {"id": "learning-log-whole", "property": "value", "value": whole or []},
                  {"id": "learning-log-context", "property": "data", "value": context}]})
    return response.status, json.dumps(response.json()) if response.ok else response.text()


def table_rows(page) -> list[str]:
    return page.locator("#learning-log-table tbody tr").all_text_contents()


def test_steering_adds_a_note_and_sees_it_listed(browser, dashboard_url, sample_run,
                                                 artifacts):
    errors = []
    page = signed_in_page(browser, dashboard_url, "steering", "/learning-log")
    page.on("pageerror", lambda error: errors.append(str(error)))
    assert "Learning log" in nav(page)
    page.wait_for_selector("#learning-log-form", state="visible", timeout=30_000)
    # The date field writes a day as every other date on the page ("7 Dec 2026"), never in the
    # browser's own format (12/07/2026).
    assert page.input_value("#learning-log-date") == format_date(today())
    # With every indicator chosen, a note is on the whole initiative.
    assert page.locator("#learning-log-target").text_content() == "the whole initiative"
    page.locator("#learning-log-indicator").click()
    page.get_by_role("option", name="Children enrolled (Early learning)").click()
    page.locator("#learning-log-place").click()
    page.get_by_role("option", name="Eastfield").click()
    page.wait_for_function("document.querySelector('#learning-log-target').textContent"
                           ".startsWith('Children enrolled, Eastfield')", timeout=30_000)

    text = f"Enrolment drive started in Eastfield {MARK}"
    page.fill("#learning-log-date", "12 Oct 2026")
    page.press("#learning-log-date", "Tab")
    page.fill("#learning-log-text", text)
    page.click("#learning-log-add")
    page.wait_for_selector("#learning-log-result.learning-log-ok", timeout=30_000)
    assert page.locator("#learning-log-result").text_content() == (
        "Added your note of 12 Oct 2026 on Children enrolled, Eastfield.")
    assert page.input_value("#learning-log-text") == ""
    row = page.locator("#learning-log-table tbody tr", has_text=text)
    row.wait_for(timeout=30_000)
    cells = row.locator("td").all_text_contents()
    assert cells == ["12 Oct 2026", text, "Children enrolled, Eastfield", "steering"]

    # An empty note is refused with a message, not an error.
    page.fill("#learning-log-text", "   ")
    page.click("#learning-log-add")
    page.wait_for_selector("#learning-log-result.learning-log-error", timeout=30_000)
    assert "the note is empty" in page.locator("#learning-log-result").text_content()

    # Ticked, the note is on the whole initiative (at the chosen place).
    whole = f"Data system changed {MARK}"
    page.fill("#learning-log-date", "20 Oct 2026")
    page.press("#learning-log-date", "Tab")
    page.fill("#learning-log-text", whole)
    page.get_by_label("Whole initiative").check()
    page.wait_for_function("document.querySelector('#learning-log-target').textContent"
                           " === 'the whole initiative, Eastfield'", timeout=30_000)
    page.click("#learning-log-add")
    page.wait_for_selector("#learning-log-result.learning-log-ok", timeout=30_000)
    page.locator("#learning-log-table tbody tr", has_text=whole).wait_for(timeout=30_000)
    ours = [r for r in table_rows(page) if MARK in r]
    assert len(ours) == 2 and whole in ours[0] and "Whole initiative, Eastfield" in ours[0]
    page.screenshot(path=str(artifacts / "learning_log_page.png"), full_page=True)

    # Kept in the initiative's learning log (outside the warehouse), with who wrote it.
    notes = [n for n in LearningLog.for_project(sample_run.paths).list() if MARK in n.text]
    assert {(n.text, n.author, n.author_role, n.indicator_code, n.place_code, str(n.noted_on))
            for n in notes} == {
        (text, "steering", "steering", "children_enrolled", "east", "2026-10-12"),
        (whole, "steering", "steering", None, "east", "2026-10-20")}
    assert errors == []
    page.context.close()


def test_working_group_cannot_write_on_a_health_indicator(browser, dashboard_url, sample_run):
    page = signed_in_page(browser, dashboard_url, "wg-early", "/learning-log")
    assert "Learning log" in nav(page)
    page.wait_for_selector("#learning-log-hint", timeout=30_000)
    # No indicator chosen: a working group does not write on the whole initiative.
    assert not page.locator("#learning-log-form").is_visible()
    assert "choose one of your working groups' indicators" in page.locator(
        "#learning-log-hint").text_content()
    page.locator("#learning-log-indicator").click()
    options = page.get_by_role("option").all_text_contents()
    assert options and all(o.startswith("All indicators") or "(Early learning)" in o
                           for o in options), options
    assert not any("Child health" in o for o in options)
    page.keyboard.press("Escape")

    # The health indicator asked for by URL: not offered, nothing to write on.
    page.goto(f"{dashboard_url}/learning-log?indicator=immunised_children")
    page.wait_for_selector("#learning-log-hint", timeout=30_000)
    assert not page.locator("#learning-log-form").is_visible()

    # A hand-made request: the server checks the role again and answers with a message.
    attempt = f"Clinic closed {MARK}"
    status, body = add_request(page, dashboard_url, {"indicator": "immunised_children",
                                                     "place": "east"}, attempt)
    assert status == 200, body
    assert ("Not added: wg-early may write notes only on the indicators of their working "
            "groups (early_learning), not on immunised_children.") in body
    status, body = add_request(page, dashboard_url, {"indicator": "children_enrolled"}, attempt,
                               whole=["whole"])
    assert status == 200 and "only the steering committee and the backbone" in body
    status, body = add_request(page, dashboard_url, "not a context", {"not": "text"})
    assert status == 200 and "Not added: the note must be text." in body
    assert not [n for n in LearningLog.for_project(sample_run.paths).list()
                if n.text == attempt]
    page.context.close()


def test_partner_does_not_get_the_learning_log(browser, dashboard_url):
    page = signed_in_page(browser, dashboard_url, "brightstart", "/learning-log")
    assert "Learning log" not in nav(page)
    page.wait_for_selector("#learning-log-denied", timeout=30_000)
    assert page.locator("#learning-log-form").count() == 0
    assert page.locator("#learning-log-table").count() == 0
    status, body = add_request(page, dashboard_url, {"indicator": None, "place": None},
                               f"Partner note {MARK}")
    assert status == 200 and "You cannot write in the learning log." in body
    page.context.close()
