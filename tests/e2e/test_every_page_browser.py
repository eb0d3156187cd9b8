"""Every role x every page in its navigation, in headless chromium: the page answers, logs no
console error, shows no broken image, and the Indicators page (for an indicator the role sees)
draws the values the published snapshot has. A new page or role is covered without a new test:
the pages come from the navigation the role is shown, the roles from the sample's users."""

from __future__ import annotations

import duckdb
import pytest

from tests.conftest import SAMPLE_USERS
from tests.e2e.conftest import signed_in_page

pytestmark = pytest.mark.browser

BROKEN_IMAGES = """[...document.images].filter(i => i.complete && i.naturalWidth === 0)
                   .map(i => i.alt || i.src)"""


def _settled(page) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_function("!document.querySelector('._dash-loading')", timeout=30_000)
    page.wait_for_timeout(300)


# A wide screen and a phone's (390 x 844): at a phone's width a page fits it (wide tables and
# charts scroll inside their own box, the page itself never sideways).
SCREENS = {"wide": (1400, 1000), "phone": (390, 844)}
OVERFLOW = """[...document.querySelectorAll('body *')].filter(e => {
    const box = e.getBoundingClientRect();
    return box.width > 0 && box.right > document.documentElement.clientWidth + 1
        && !e.closest('.table-scroll, .js-plotly-plot, .dash-spreadsheet-container');
}).slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)"""


@pytest.mark.parametrize("screen", sorted(SCREENS))
@pytest.mark.parametrize("username", sorted(SAMPLE_USERS))
def test_every_page_of_a_role_is_clean(browser, dashboard_url, sample_run, artifacts, username,
                                       screen):
    width, height = SCREENS[screen]
    page = signed_in_page(browser, dashboard_url, username, viewport=(width, height))
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(f"console: {message.text}")
            if message.type == "error" else None)
    page.on("response", lambda response: problems.append(
        f"HTTP {response.status}: {response.url}") if response.status >= 400 else None)
    links = page.locator("nav .nav-link")
    pages = [(links.nth(n).text_content(), links.nth(n).get_attribute("href"))
             for n in range(links.count())]
    assert pages and pages[0] == ("Overview", "/")
    for name, href in pages:
        page.goto(dashboard_url + href)
        _settled(page)
        broken = page.evaluate(BROKEN_IMAGES)
        assert broken == [], (username, name, broken)
        assert page.locator("main").inner_text().strip(), (username, name)
        page.screenshot(path=str(artifacts / f"role_{username}_{href.strip('/') or 'overview'}"
                                            f"_{screen}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (
            username, name, screen, page.evaluate(OVERFLOW))
    assert problems == [], (username, problems)
    if "/milestones" in [href for _, href in pages] and screen == "wide":
        _indicator_draws_the_published_values(page, dashboard_url, sample_run, username,
                                              artifacts, problems)
    page.context.close()


def _indicator_draws_the_published_values(page, url, sample_run, username, artifacts,
                                          problems) -> None:
    page.goto(f"{url}/milestones")
    page.wait_for_selector("#milestone-chart .scatterlayer .trace", timeout=30_000)
    _settled(page)
    chosen = page.locator("#milestone-indicator").inner_text().strip()
    figure = page.evaluate("""() => {
        const graph = document.querySelector('#milestone-chart .js-plotly-plot');
        return graph.data.map(t => ({name: t.name, y: t.y}));
    }""")
    actual = next(trace for trace in figure if trace["name"] == "Actual")
    drawn = sorted(round(y, 6) for y in actual["y"] if y is not None)
    assert drawn, (username, chosen)
    indicator = page.evaluate("new URLSearchParams(location.search).get('indicator')")
    con = duckdb.connect(str(sample_run.paths.serving), read_only=True)
    try:
        codes = dict(con.execute("select short_name || ' (' || working_group_name || ')', "
                                 "indicator_code from marts.indicators").fetchall())
        code = indicator or codes.get(chosen)
        published = con.execute(
            "select value from marts.indicator_period_totals where indicator_code = ? and "
            "place_code = 'all' and period_type = 'month' and completeness_state = 'complete'",
            [code]).fetchall()
    finally:
        con.close()
    assert code, (username, chosen)
    expected = sorted(round(v, 6) for (v,) in published)
    # A partner's view leaves out totals from fewer partners than its small-cell rule allows.
    assert set(drawn) <= set(expected) and len(drawn) >= 3, (username, code, drawn, expected)
    page.screenshot(path=str(artifacts / f"role_{username}_indicator.png"), full_page=True)
    assert problems == [], (username, problems)


def test_a_partner_downloads_exactly_the_table_it_is_shown(browser, dashboard_url, sample_run,
                                                            tmp_path):
    """Found: nothing could be taken out. In a real browser a partner's Quality page table
    downloads as CSV and Excel holding the rows shown, its own only."""
    import csv

    import openpyxl

    page = signed_in_page(browser, dashboard_url, "brightstart", "/quality")
    page.wait_for_selector("#quality-quarantined", timeout=30_000)
    _settled(page)
    shown = page.locator("#quality-quarantined tbody tr").all_inner_texts()
    block = page.locator(".exportable", has=page.locator("#quality-quarantined"))
    with page.expect_download() as download:
        block.get_by_role("button", name="CSV").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "Quarantined rows - brightstart.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["File", "Sheet", "Row"]
    # Every row shown (the first page of the table) is in the file, and only the partner's.
    assert len(rows) - 1 >= len(shown) - 1 >= 1
    assert all(row[0].startswith("brightstart_") for row in rows[1:])
    with page.expect_download() as download:
        block.get_by_role("button", name="Excel").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    # The same cells; the CSV's formula-like ones behind an apostrophe ("-" for none, as the
    # feedback packs write it), the workbook's as text cells.
    assert [[c.value or "" for c in row] for row in sheet.iter_rows()] == [
        [cell[1:] if cell.startswith("'") else cell for cell in row] for row in rows]
    page.context.close()


def test_the_chart_values_download_as_numbers(browser, dashboard_url, sample_run, tmp_path):
    """Found: a chart's values downloaded as 'dtype' and 'bdata' (Plotly's typed arrays read as
    lists). The Indicators chart's file holds the published totals; the breakdowns' file one row
    per panel, series and month, with numbers."""
    import csv

    page = signed_in_page(browser, dashboard_url, "steering",
                          "/milestones?indicator=children_enrolled&place=all")
    page.wait_for_selector("#breakdown-chart .scatterlayer .trace", timeout=30_000)
    _settled(page)

    def download(table: str) -> list[list[str]]:
        # the buttons' pattern-matching ids, as Dash writes them in the page
        button = page.locator(f"button[id*='\"table\":\"{table}\"'][id*='\"csv\"']")
        with page.expect_download() as file:
            button.click()
        path = tmp_path / file.value.suggested_filename
        file.value.save_as(path)
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.reader(handle))

    chart = download("milestone-values")
    assert chart[0] == ["Series", "Date", "Value"]
    actual = {row[1]: float(row[2]) for row in chart[1:] if row[0] == "Actual"}
    con = duckdb.connect(str(sample_run.paths.serving), read_only=True)
    try:
        published = dict(con.execute(
            "select strftime(period_start, '%Y-%m-%d'), value from marts.indicator_period_totals"
            " where indicator_code = 'children_enrolled' and place_code = 'all' and "
            "period_type = 'month' and completeness_state = 'complete'").fetchall())
    finally:
        con.close()
    assert actual and all(abs(published[day] - value) < 1e-6 for day, value in actual.items())
    panels = download("breakdown-values")
    assert panels[0] == ["Panel", "Series", "Date", "Value"]
    assert {row[0] for row in panels[1:]} >= {"By age band", "By sex"}
    assert all(float(row[3]) >= 0 for row in panels[1:])
    page.context.close()
