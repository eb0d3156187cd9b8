"""`mapping check` is Ready (exit 0) when every remaining reason is one the mapping or the file
declares - totals, rows reporting nothing, rows the mapping's rules leave out - and its warnings
are grouped, not one line per month."""

from __future__ import annotations

import pytest

from murmuration.onboarding.check import check_mappings
from murmuration.registry import load_registry
from tests.conftest import copy_initiative
from tests.dbt.test_field_model import FIXTURE, HISTORY, SITES, market_sheets

pytestmark = pytest.mark.slow


def test_declared_reasons_leave_a_mapping_ready_and_old_months_are_one_warning(tmp_path,
                                                                              dbt_manifest):
    paths = copy_initiative(FIXTURE, tmp_path / "initiative")
    registry = load_registry(paths)
    files, _ = market_sheets()
    samples = {"wash_cluster": ("4w.csv", SITES), "markets_wg": ("markets.csv",
                                                                   files["markets_wg/markets_2025-01.csv"]),
               "ngo_c": ("history.csv", HISTORY)}
    written = []
    for folder, (name, text) in samples.items():
        path = tmp_path / name
        path.write_text(text)
        written.append((path, folder))
    sites, markets, history = check_mappings(paths, registry, written)
    # The site report's '-' row reports nothing; the market sheet's region and national rows
    # are its own totals: quarantined, declared, and the mapping is ready.
    assert (sites.rows_quarantined, sites.declared_rows, sites.ready) == (1, 1, True)
    assert (markets.rows_quarantined, markets.declared_rows, markets.ready) == (3, 3, True)
    assert sites.lines()[-1] == ("Ready: every row that carries values is accepted; the others "
                                 "are quarantined for reasons the mapping declares.")
    [warning] = [w for w in history.warnings if "more than a year" in w]
    assert warning.startswith("3 periods (2024-01..2024-03, 3 rows) are more than a year "
                              "before the file arrived (")
    assert "record when it was sent (murmuration arrivals set)" in warning
