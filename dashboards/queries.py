"""Read-only queries on the published serving file. The dashboard never touches the warehouse.

Each call opens the serving file read-only and closes it, so a newly published file (swapped in
with os.replace by the pipeline) is picked up on the next request.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from murmuration.paths import ProjectPaths


def serving_path() -> Path:
    """The serving file of the initiative this dashboard serves (MURMURATION_PROJECT_DIR)."""
    explicit = os.environ.get("MURMURATION_SERVING")
    return Path(explicit) if explicit else ProjectPaths.from_env().serving


class NotPublished(Exception):
    """No snapshot has been published yet for this initiative."""


@contextmanager
def _connection():
    path = serving_path()
    if not path.exists():
        raise NotPublished(str(path))
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def _frame(sql: str, parameters: list | None = None) -> pd.DataFrame:
    with _connection() as con:
        return con.execute(sql, parameters or []).df()


def published_at() -> str:
    return _frame("select published_at from main.published").iloc[0, 0]


def initiative_name() -> str:
    return _frame("select initiative_name from marts.initiative").iloc[0, 0]


def indicators() -> pd.DataFrame:
    return _frame("select * from marts.indicators order by display_order")


def places() -> pd.DataFrame:
    return _frame("select * from marts.places order by display_order")


def milestone_status() -> pd.DataFrame:
    return _frame("""
        select m.*, i.short_name, i.indicator_name, i.unit_name, i.decimals, i.direction,
            i.working_group_name, coalesce(p.place_name, 'Whole area') as place_name,
            i.display_order, coalesce(p.display_order, -1) as place_order
        from marts.milestone_status m
        join marts.indicators i using (indicator_code)
        left join marts.places p using (place_code)
        order by i.display_order, place_order""")


def monthly_totals(indicator_code: str, place_code: str) -> pd.DataFrame:
    return _frame("""
        select period, period_start, value, partners_reporting, partners_expected,
            numerator_value, denominator_value, parts_unpaired, completeness_state, due_date
        from marts.indicator_period_totals
        where indicator_code = ? and place_code = ?
            and period_type = (select period_type from marts.initiative)
        order by period_start""", [indicator_code, place_code])


def target_points(indicator_code: str, place_code: str) -> pd.DataFrame:
    return _frame("""
        select point_kind, sequence, period, period_start, target_value, note
        from marts.indicator_targets
        where indicator_code = ? and place_code = ?
        order by sequence""", [indicator_code, place_code])



def partner_scorecards() -> pd.DataFrame:
    return _frame("select * from quality.partner_scorecard order by score, partner_code")


def submission_scorecard(partner_code: str) -> pd.DataFrame:
    return _frame("select * from quality.submission_scorecard where partner_code = ? "
                  "order by report_start", [partner_code])


def quarantine_reasons(partner_code: str) -> pd.DataFrame:
    return _frame("select quarantine_reason as reason, count(*) as rows, "
                  "min(file_name) as example_file from marts.quarantined_values "
                  "where partner_code = ? group by 1 order by 2 desc", [partner_code])


def partner_flags(partner_code: str, limit: int = 50) -> pd.DataFrame:
    return _frame("""
        select f.period, f.rule, f.severity, i.short_name as indicator, f.place_code,
            f.value, f.expected_low, f.expected_high, f.description
        from quality.value_flags f join marts.indicators i using (indicator_code)
        where f.partner_code = ? and f.outcome = 'current'
        order by f.period desc limit ?""", [partner_code, limit])
