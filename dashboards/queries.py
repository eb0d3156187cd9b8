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

from murmuration.access import User
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


def partners() -> pd.DataFrame:
    return _frame("select partner_code, partner_name from marts.partners order by partner_code")


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



def _in_scope(column: str, scope: tuple[str, ...] | None) -> tuple[str, list]:
    """A where-clause keeping the rows a user may see (scope None: all of them)."""
    if scope is None:
        return "true", []
    if not scope:
        return "false", []
    return f"{column} in ({', '.join('?' for _ in scope)})", list(scope)


def indicators_seen_in_full(user: User) -> pd.DataFrame:
    """Indicators whose charts by place the user opens (a working group: its own)."""
    catalogue = indicators()
    groups = user.indicator_groups()
    return catalogue if groups is None else catalogue[catalogue["working_group_code"].isin(groups)]


def monthly_totals_for(user: User, indicator_code: str, place_code: str) -> pd.DataFrame:
    """Shared totals, for an indicator this user sees in full (else none)."""
    if indicator_code not in set(indicators_seen_in_full(user)["indicator_code"]):
        return monthly_totals("", place_code).iloc[0:0]
    return monthly_totals(indicator_code, place_code)


def partner_scorecards(user: User) -> pd.DataFrame:
    where, parameters = _in_scope("partner_code", user.scorecard_scope())
    return _frame(f"select * from quality.partner_scorecard where {where} "
                  "order by score, partner_code", parameters)


def submission_scorecard(user: User, partner_code: str) -> pd.DataFrame:
    where, parameters = _in_scope("partner_code", user.scorecard_scope())
    return _frame(f"select * from quality.submission_scorecard where partner_code = ? "
                  f"and {where} order by report_start", [partner_code, *parameters])


def quarantine_reasons(user: User, partner_code: str) -> pd.DataFrame:
    """Quarantined rows by reason; the example file only for those who may see its rows."""
    where, parameters = _in_scope("partner_code", user.scorecard_scope())
    example = ("min(file_name)" if user.may_see_partner_rows(partner_code)
               else "null::varchar")
    return _frame(f"select quarantine_reason as reason, count(*) as rows, {example} as "
                  "example_file from marts.quarantined_values "
                  f"where partner_code = ? and {where} group by 1 order by 2 desc",
                  [partner_code, *parameters])


def partner_flags(user: User, partner_code: str, limit: int = 50) -> pd.DataFrame:
    """The values flagged as unusual (a partner's rows: only for itself and the backbone)."""
    where, parameters = _in_scope("f.partner_code", user.partner_scope())
    return _frame(f"""
        select f.period, f.rule, f.severity, i.short_name as indicator, f.place_code,
            f.value, f.expected_low, f.expected_high, f.description
        from quality.value_flags f join marts.indicators i using (indicator_code)
        where f.partner_code = ? and f.outcome = 'current' and {where}
        order by f.period desc limit ?""", [partner_code, *parameters, limit])


def partner_submissions(user: User, partner_code: str | None) -> pd.DataFrame:
    """A partner's files as received, newest first (partner_code None: every partner's, for
    the backbone's intake status)."""
    where, parameters = _in_scope("partner_code", user.partner_scope())
    chosen = "partner_code = ?" if partner_code else "true"
    return _frame(f"""
        select submission_id, file_name, folder, partner_code, arrived_at, landing_status,
            message,
            mapping_name, rows_read, rows_accepted, rows_quarantined, values_accepted,
            values_current, values_superseded, values_withdrawn, superseded_by,
            first_period, last_period, sha256
        from marts.submissions
        where {chosen} and {where}
        order by arrived_at desc, file_name""",
                  ([partner_code] if partner_code else []) + parameters)


def current_values_in(user: User, partner_code: str, periods: list[str]) -> pd.DataFrame:
    """The partner's published values in these periods, by file: what a new file for the same
    periods would replace (under the initiative's slices; the pipeline decides for real)."""
    if not periods or not user.may_see_partner_rows(partner_code):
        return pd.DataFrame(columns=["File", "Periods", "Indicators", "Values"])
    return _frame(f"""
        select file_name as "File", string_agg(distinct period, ', ' order by period)
            as "Periods", count(distinct indicator_code) as "Indicators", count(*) as "Values"
        from marts.indicator_values
        where partner_code = ? and period in ({', '.join('?' for _ in periods)})
        group by file_name order by file_name""", [partner_code, *periods])
