"""The field's data model on a purpose-built initiative (tests/dbt/field_model) whose inbox is
generated here with a fixed seed: each test is a finding of "The field's data model" that
published a wrong or missing headline before.

- Prices are rolled up as medians (not summed) through a place hierarchy, and the file's own
  region and national rows are recognised as totals of its provinces, not counted again.
"""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from murmuration.intake.arrivals import record as record_arrivals
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


@pytest.fixture(scope="module")
def built(tmp_path_factory, dbt_manifest):
    paths = copy_initiative(FIXTURE, tmp_path_factory.mktemp("field_model") / "initiative")
    files, truth = market_sheets()
    for n, (name, text) in enumerate(sorted(files.items())):
        path = paths.inbox_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        record_arrivals(paths, [path], "recorded", datetime(2025, 2 + n, 10, 9, tzinfo=UTC))
    build_outside_dagster(paths, AS_OF)
    return paths, truth


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
        "marts.submissions").fetchall()
    assert (accepted, quarantined, data_rows) == (5 * 4, 3 * 4, 8 * 4)
    [(validity,)] = warehouse.execute(
        "select min(validity) from quality.submission_scorecard").fetchall()
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
