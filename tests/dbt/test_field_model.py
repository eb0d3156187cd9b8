"""The field's data model on a purpose-built initiative (tests/dbt/field_model) whose inbox is
generated here with a fixed seed: each test is a finding of "The field's data model" that
published a wrong or missing headline before.

- Prices are rolled up as medians (not summed) through a place hierarchy, and the file's own
  region and national rows are recognised as totals of its provinces, not counted again.
- Several activity rows for one site report the same people: the most per site counts.
- Months as columns (an .xlsb workbook, the year in its name) are read by one mapping.
- A one-row correction replaces that row only; a complete return that would remove most of a
  slice is held for review and published only once accepted.
- Two projects of one partner (a lead organisation's consolidated file, the partner's own) add
  up instead of replacing each other.
- A value header starting with '#' is a header, not an HXL tag; '-' reports nothing.
"""

from __future__ import annotations

import random
import shutil
import statistics
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from murmuration import review
from murmuration.intake.arrivals import record as record_arrivals
from murmuration.intake.arrivals import set_arrivals
from tests.conftest import build_outside_dagster, copy_initiative

pytestmark = pytest.mark.slow

FIXTURE = Path(__file__).parent / "field_model"
AS_OF = "2025-06-30T00:00:00+00:00"
MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04"]
REGIONS = {"R1": ("Central", ["AF01", "AF02", "AF03"]), "R2": ("Eastern", ["AF06", "AF07"])}
PROVINCES = {"AF01": "Kabul", "AF02": "Kapisa", "AF03": "Parwan", "AF06": "Nangarhar",
             "AF07": "Laghman"}


def market_sheets(seed: int = 7) -> tuple[dict[str, str], dict]:
    """A market monitoring sheet per month (one row per province, then each region's and the
    country's rows, as the working group publishes them), and the prices and traders per
    month and province it holds."""
    generator = random.Random(seed)
    files, truth = {}, {}
    for month in MONTHS:
        prices = {code: generator.randrange(17_000, 23_000) for code in PROVINCES}
        traders = {code: generator.randrange(5, 40) for code in PROVINCES}
        truth[month] = (prices, traders)
        lines = ["Month,Level,Pcode,Location,Basket (AFN),Traders"]
        lines += [f"{month},Province,{code.lower() if code == 'AF02' else code},{name},"
                  f"{prices[code]},{traders[code]}" for code, name in PROVINCES.items()]
        for region, (name, members) in REGIONS.items():
            lines.append(f"{month},Region,{region},{name},"
                         f"{statistics.median(prices[c] for c in members):.0f},"
                         f"{sum(traders[c] for c in members)}")
        # The country's figure as published: the median over every trader's price, which the
        # provinces' medians do not give exactly.
        lines.append(f"{month},National,AF,Afghanistan,"
                     f"{statistics.median(prices.values()) + 23:.0f},{sum(traders.values())}")
        files[f"markets_wg/markets_{month}.csv"] = "\n".join(lines) + "\n"
    return files, truth


# 4W site reports: one row per activity and site; activities at one site reach the same people.
SITES = ("Month,Province,Site,Activity,People reached\n"
         "2025-02,AF06,Camp A,Water trucking,6555\n"
         "2025-02,AF06,Camp A,Chlorination,6555\n"
         "2025-02,AF06,Camp A,Solid waste,6555\n"
         "2025-02,AF06,Camp B,Water trucking,1200\n"
         "2025-02,AF06,Camp B,Solid waste,900\n"
         "2025-02,AF06,Camp C,Hygiene kits,-\n"
         "2025-02,AF07,Camp D,Water trucking,310\n")
# A camp sheet: one row per community, a column per month (the year in the file's name).
CAMPS = [["Camp population by community and month"],
         ["Province", "Community", "Jan", "Feb", "Mar", "Total"],
         ["AF01", "Community 1", 100, 110, 120, 330],
         ["AF01", "Community 2", 40, None, 45, 85],
         ["AF03", "Community 3", 7, 8, "-", 15]]
RETURNS = ("Month,Province,People reached\n" + "".join(
    f"2025-03,{code},{n * 100}\n" for n, code in enumerate(PROVINCES, start=1)))
ONE_ROW = "Month,Province,People reached\n2025-03,AF02,250\n"
# One workbook, a sheet per sector, each read by its own mapping; a notes sheet neither reads.
SECTORS = {"Health": [["Month", "Province", "Patients"], ["2025-03", "AF06", 120],
                      ["2025-03", "AF07", 80]],
           "Water": [["Water points"], ["Month", "Province", "People served"],
                     ["2025-03", "AF03", 900]],
           "Notes": [["Figures are checked by the field office."]]}
HISTORY = ("Month,Province,# of beneficiaries\n2024-01,AF01,60\n2024-02,AF01,61\n"
           "2024-03,AF01,62\n")
INBOX = {
    # name: (arrived, content)
    "wash_cluster/4w_2025-02.csv": ("2025-03-05", SITES),
    "ngo_a/ngo_a_2025-03.csv": ("2025-04-03", RETURNS),
    "ngo_a/ngo_a_2025-03_correction.csv": ("2025-04-08", ONE_ROW),
    "ngo_b/ngo_b_2025-03.csv": ("2025-04-03", RETURNS),
    "ngo_b/ngo_b_2025-03_return.csv": ("2025-04-08", ONE_ROW),
    "ngo_c/ngo_c_2025-03.csv": ("2025-04-04", "Monthly report\nMonth,Province,# of beneficiaries\n"
                                              "2025-03,AF01,75\n"),
    "_consolidated/lead_x_2025-03.csv": (
        "2025-04-02", "Month,Organisation,Lead organisation,Province,People reached\n"
                      "2025-03,N.G.O. D,Lead X,AF01,100\n"),
    "ngo_d/ngo_d_2025-03.csv": ("2025-04-06", "Month,Project,Province,People reached\n"
                                              "2025-03,Project Y,AF01,40\n"),
}


def write_inbox(paths) -> dict:
    from tests.intake.xlsb import write_xlsb

    files, truth = market_sheets()
    inbox = {name: (f"2025-{2 + n:02d}-10", text) for n, (name, text)
             in enumerate(sorted(files.items()))}
    inbox.update(INBOX)
    inbox["camp_agency/camps_2025.xlsb"] = ("2025-04-05", CAMPS)
    inbox["ngo_e/ngo_e_2025-03.xlsx"] = ("2025-04-07", SECTORS)
    for name, (arrived, content) in inbox.items():
        path = paths.inbox_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, dict):
            write_workbook(path, content)
        elif isinstance(content, list):
            write_xlsb(path, content)
        else:
            path.write_text(content)
        record_arrivals(paths, [path], "recorded",
                        datetime.fromisoformat(arrived).replace(hour=9, tzinfo=UTC))
    # Last year's months loaded today: first seen by the watcher long after they were sent.
    history = paths.inbox_dir / "ngo_c" / "ngo_c_2024_history.csv"
    history.write_text(HISTORY)
    record_arrivals(paths, [history], "sensor", datetime(2025, 4, 4, 9, tzinfo=UTC))
    return truth


def write_workbook(path: Path, sheets: dict[str, list[list]]) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)


@pytest.fixture(scope="module")
def built(tmp_path_factory, dbt_manifest):
    """The inbox built, then built again after the backbone accepted NGO B's held return
    (the warehouse as it was before is kept as ``before.duckdb``)."""
    paths = copy_initiative(FIXTURE, tmp_path_factory.mktemp("field_model") / "initiative")
    truth = write_inbox(paths)
    build_outside_dagster(paths, AS_OF)
    shutil.copyfile(paths.warehouse, paths.state_dir / "before.duckdb")
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    held = con.execute("select submission_id, file_name from marts.submissions "
                       "where values_held > 0").fetchall()
    con.close()
    review.accept(paths, held, "test")
    # ... and recorded when last year's history was really sent (murmuration arrivals set).
    set_arrivals(paths, {paths.inbox_dir / "ngo_c" / "ngo_c_2024_history.csv":
                         datetime(2024, 4, 10, 12, tzinfo=UTC)})
    build_outside_dagster(paths, AS_OF)
    return paths, truth


@pytest.fixture(scope="module")
def before(built):
    con = duckdb.connect(str(built[0].state_dir / "before.duckdb"), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def warehouse(built):
    con = duckdb.connect(str(built[0].warehouse), read_only=True)
    yield con
    con.close()


def total(con, indicator, period, place, period_type="month"):
    found = con.execute(
        "select value, values_counted from marts.indicator_period_totals where indicator_code "
        "= ? and period = ? and place_code = ? and period_type = ?",
        [indicator, period, place, period_type]).fetchall()
    return found[0] if found else None


def test_prices_are_medians_at_every_level_not_sums(warehouse, built):
    _, truth = built
    for month, (prices, traders) in truth.items():
        # The whole area: the median of the 22 (here 5) province prices, over 5 values.
        assert total(warehouse, "basket_price", month, "all") == (
            statistics.median(prices.values()), 5)
        for region, (_, members) in REGIONS.items():
            assert total(warehouse, "basket_price", month, region) == (
                statistics.median(prices[c] for c in members), len(members))
        assert total(warehouse, "basket_price", month, "AF02")[0] == prices["AF02"]
        # A count in the same file adds up.
        assert total(warehouse, "traders_monitored", month, "all")[0] == sum(traders.values())
        assert total(warehouse, "traders_monitored", month, "R1")[0] == sum(
            traders[c] for c in REGIONS["R1"][1])


def test_a_quarter_is_the_median_of_each_provinces_mean_price(warehouse, built):
    _, truth = built
    quarter = [truth[m][0] for m in MONTHS[:3]]
    means = {code: statistics.mean(month[code] for month in quarter) for code in PROVINCES}
    value, counted = total(warehouse, "basket_price", "2025-Q1", "all", "quarter")
    assert value == pytest.approx(statistics.median(means.values())) and counted == 5
    value, _ = total(warehouse, "basket_price", "2025-Q1", "R2", "quarter")
    assert value == pytest.approx(statistics.median([means["AF06"], means["AF07"]]))


def test_the_files_region_and_national_rows_are_its_own_totals_not_counted_again(warehouse,
                                                                                   built):
    _, truth = built
    prices = truth["2025-01"][0]
    reasons = dict(warehouse.execute(
        "select place_code, quarantine_reason from intermediate.int_records_validated "
        "where period = '2025-01' and indicator_code = 'basket_price' and is_not_data "
        "and extract_problem_kind = 'summary'").fetchall())
    assert set(reasons) == {"R1", "R2", "all"}
    national = statistics.median(prices.values())
    assert reasons["all"] == (
        "a total of this file's values for the places below it (5 places, their median "
        f"{national:.0f}; this row says {national + 23:.0f}): Murmuration rolls them up itself, "
        "so the row is not counted again")
    # Declared totals are not held against the partner: every data row with values counts.
    [(accepted, quarantined, data_rows)] = warehouse.execute(
        "select sum(rows_accepted), sum(rows_quarantined), sum(data_rows) from "
        "marts.submissions where folder = 'markets_wg'").fetchall()
    assert (accepted, quarantined, data_rows) == (5 * 4, 3 * 4, 8 * 4)
    [(validity,)] = warehouse.execute(
        "select min(validity) from quality.submission_scorecard "
        "where partner_code = 'markets_wg'").fetchall()
    assert validity == 1


def test_a_price_shows_no_partner_parts_and_its_status_follows_the_median(warehouse, built):
    [(additive, parts)] = warehouse.execute(
        "select is_additive, shows_contributions from marts.indicators "
        "where indicator_code = 'basket_price'").fetchall()
    assert (additive, parts) == (False, False)
    [(latest, status)] = warehouse.execute(
        "select latest_value, status from marts.milestone_status "
        "where indicator_code = 'basket_price'").fetchall()
    _, truth = built
    assert latest == statistics.median(truth["2025-04"][0].values())
    assert status in {"on_track", "at_risk", "off_track"}
    levels = dict(warehouse.execute(
        "select place_code, any_value(place_level) from marts.indicator_period_totals "
        "group by 1").fetchall())
    assert (levels["all"], levels["R1"], levels["AF01"]) == ("Whole area", "Region", "Province")


def people(con, partner, period="2025-03"):
    return dict(con.execute(
        "select place_code || coalesce(' / ' || nullif(reporting_unit, ''), ''), value "
        "from marts.indicator_values where partner_code = ? and period = ? "
        "and indicator_code = 'people_reached'", [partner, period]).fetchall())


def submission(con, file_name):
    return con.execute(
        "select data_rows, rows_accepted, rows_quarantined, values_current, values_superseded, "
        "values_deduplicated, values_held, held_reason from marts.submissions "
        "where file_name = ?", [file_name]).fetchone()


def test_activities_at_one_site_count_the_sites_people_once(warehouse):
    # Camp A's three activities reach the same 6,555 people; Camp B's two, 1,200 at most.
    assert people(warehouse, "wash_cluster", "2025-02") == {"AF06": 6555 + 1200, "AF07": 310}
    assert total(warehouse, "people_reached", "2025-02", "R2")[0] == 6555 + 1200 + 310
    # The activities not counted are counted as deduplicated (not errors); Camp C's '-' reports
    # nothing (not data, not a non-number).
    assert submission(warehouse, "4w_2025-02.csv")[:6] == (7, 6, 1, 3, 0, 3)
    [(reason, not_data)] = warehouse.execute(
        "select quarantine_reason, is_not_data from marts.quarantined_values "
        "where file_name = '4w_2025-02.csv'").fetchall()
    assert (reason, not_data) == ("no values reported in this row", True)
    dropped = warehouse.execute(
        "select o.value, kept.value from intermediate.int_records_outcomes o "
        "join intermediate.int_records_outcomes kept on kept.record_id = o.deduplicated_by "
        "where o.outcome = 'deduplicated' order by 1").fetchall()
    assert dropped == [(900, 1200), (6555, 6555), (6555, 6555)]


def test_months_as_columns_in_an_xlsb_workbook_are_read_by_one_mapping(warehouse):
    assert people(warehouse, "camp_agency", "2025-01") == {"AF01": 140, "AF03": 7}
    assert people(warehouse, "camp_agency", "2025-02") == {"AF01": 110, "AF03": 8}
    assert people(warehouse, "camp_agency", "2025-03") == {"AF01": 165}  # Community 3: '-'
    [(source, text)] = warehouse.execute(
        "select distinct period_source, period_text from intermediate.int_records_resolved "
        "where file_name = 'camps_2025.xlsb' and period = '2025-02'").fetchall()
    assert (source, text) == ("column header", "Feb")
    assert submission(warehouse, "camps_2025.xlsb")[:4] == (3, 3, 0, 7)


def test_a_one_row_correction_replaces_that_row_only(warehouse):
    assert people(warehouse, "ngo_a") == {"AF01": 100, "AF02": 250, "AF03": 300, "AF06": 400,
                                          "AF07": 500}
    assert submission(warehouse, "ngo_a_2025-03.csv")[3:5] == (4, 1)
    [(changed, removed)] = warehouse.execute(
        "select values_changed, values_removed from marts.superseded_submissions "
        "where partner_code = 'ngo_a'").fetchall()
    assert (changed, removed) == (1, 0)


def test_a_return_removing_most_of_a_slice_is_held_and_published_once_accepted(before,
                                                                               warehouse):
    # Before: NGO B's one-row "return" (its files are complete returns) would withdraw four
    # provinces: held for review, the published month untouched.
    assert people(before, "ngo_b") == {"AF01": 100, "AF02": 200, "AF03": 300, "AF06": 400,
                                       "AF07": 500}
    held = submission(before, "ngo_b_2025-03_return.csv")
    assert held[6:] == (1, "it would remove 4 of the 5 values it replaces and leave 4 places "
                           "that had values with none (ngo_b, 2025-03: 5 values adding up to "
                           "1500 before, 1 adding up to 250 after)")
    [(values_before, values_after, total_before, total_after, dropped)] = before.execute(
        "select values_before, values_after, total_before, total_after, places_dropped "
        "from intermediate.int_held_submissions").fetchall()
    assert (values_before, values_after, total_before, total_after) == (5, 1, 1500, 250)
    assert dropped == ["AF01", "AF03", "AF06", "AF07"]
    # Accepted: it speaks for the whole month, as a complete return does.
    assert people(warehouse, "ngo_b") == {"AF02": 250}
    assert submission(warehouse, "ngo_b_2025-03_return.csv")[6:] == (0, None)
    assert warehouse.execute("select count(*) from intermediate.int_held_submissions"
                             ).fetchone() == (0,)


def test_two_projects_of_one_partner_add_up(warehouse):
    assert people(warehouse, "ngo_d") == {"AF01 / lead x": 100, "AF01 / project y": 40}
    assert warehouse.execute("select count(*) from marts.superseded_submissions "
                             "where partner_code = 'ngo_d'").fetchone() == (0,)
    [(contribution,)] = warehouse.execute(
        "select value from marts.indicator_contributions where partner_code = 'ngo_d' "
        "and place_code = 'AF01' and period = '2025-03'").fetchall()
    assert contribution == 140


def test_a_value_header_starting_with_a_hash_is_a_header(warehouse):
    assert people(warehouse, "ngo_c") == {"AF01": 75}


def test_a_workbook_whose_sheets_two_mappings_read_is_read_by_both(warehouse):
    assert people(warehouse, "ngo_e") == {"AF06": 120, "AF07": 80, "AF03": 900}
    [(names, rows_read, structure, other, data, accepted)] = warehouse.execute(
        "select mapping_names, rows_read, structure_rows, other_sheet_rows, data_rows, "
        "rows_accepted from marts.submissions where file_name = 'ngo_e_2025-03.xlsx'"
    ).fetchall()
    # Every row once: 2 header rows and a title, 3 data rows, the notes sheet's row.
    assert names == ["ngo_e_health", "ngo_e_water"]
    assert (rows_read, structure, other, data, accepted) == (7, 3, 1, 3, 3)


def test_a_second_mapping_covering_the_same_sheet_is_named_not_dropped_silently(warehouse):
    [(note,)] = warehouse.execute("select mapping_note from marts.submissions "
                                  "where file_name = 'camps_2025.xlsb'").fetchall()
    assert note.startswith("mappings camps_xlsb and zz_camps_copy all cover 'camps_2025.xlsb' "
                           "in inbox folder 'camp_agency'; camps_xlsb applies (the first by "
                           "file name) and zz_camps_copy does not, as they would read the "
                           "same sheet")


def test_history_loaded_today_is_not_scored_late_until_its_arrival_is_recorded(before,
                                                                               warehouse):
    def scored(con):
        return con.execute(
            "select report_period, received, timeliness, arrival_unknown "
            "from quality.submission_scorecard where partner_code = 'ngo_c' "
            "and report_period between '2024-01' and '2024-03' order by 1").fetchall()

    assert scored(before) == [("2024-01", True, None, True), ("2024-02", True, None, True),
                              ("2024-03", True, None, True)]
    # Sent on 10 April 2024: January and February late, March on time (due 20 April).
    assert scored(warehouse) == [("2024-01", True, 0.0, False), ("2024-02", True, 0.0, False),
                                 ("2024-03", True, 1.0, False)]


def test_the_sites_feedback_pack_shows_what_was_counted_once(built):
    import csv

    from murmuration.feedback import write_feedback_packs
    from murmuration.warehouse import publish

    paths, _ = built
    publish(paths)
    write_feedback_packs(paths)
    pack = paths.feedback_dir / "wash_cluster"
    with open(pack / "deduplicated.csv", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted((r["site"], r["value not counted"], r["value counted"]) for r in rows) == [
        ("Camp A", "6555.0", "6555.0"), ("Camp A", "6555.0", "6555.0"),
        ("Camp B", "900.0", "1200.0")]
    page = (pack / "index.html").read_text()
    assert "Counted once per site" in page and 'data-part="deduplicated"' in page
    assert "Counted once per site" not in (paths.feedback_dir / "ngo_a" / "index.html").read_text()
