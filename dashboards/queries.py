"""Read-only queries on the published serving file. The dashboard never touches the warehouse.

Each query opens the serving file read-only and closes it, so a newly published file (swapped in
with os.replace by the pipeline) is picked up on the next request. Results are cached per
published snapshot (the file's inode and modification time): a published file never changes, so
a cached answer is exact until the next one is swapped in, and repeated page views cost no query.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from murmuration.access import User
from murmuration.paths import ProjectPaths
from murmuration.registry.models import WHOLE_AREA


def serving_path() -> Path:
    """The serving file of the initiative this dashboard serves (MURMURATION_PROJECT_DIR)."""
    explicit = os.environ.get("MURMURATION_SERVING")
    return Path(explicit) if explicit else ProjectPaths.from_env().serving


class NotPublished(Exception):
    """No snapshot has been published yet for this initiative."""


_OPEN: dict[str, tuple[tuple, duckdb.DuckDBPyConnection]] = {}
_OPEN_LOCK = threading.Lock()


@contextmanager
def _connection():
    """A cursor on the published snapshot. One read-only database is kept open per snapshot
    (each query gets its own cursor); a newly published file is attached anew, the old one
    dropped once nobody reads it (a reader keeps the old file, as before). The file is attached
    to an in-memory database: DuckDB caches databases opened by path, so connecting to the same
    path again while the old file is open would read the old file."""
    key = snapshot_key()
    path = key[0]
    with _OPEN_LOCK:
        held = _OPEN.get(path)
        if held is None or held[0] != key:
            database = duckdb.connect(":memory:")
            database.execute(f"attach '{path.replace(chr(39), chr(39) * 2)}' as snapshot "
                             "(read_only)")
            held = (key, database)
            _OPEN[path] = held
        cursor = held[1].cursor()
    cursor.execute("use snapshot")
    try:
        yield cursor
    finally:
        cursor.close()


_CACHE: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_ENTRIES = 512


def snapshot_key() -> tuple:
    """Which published snapshot is being read (a new one is a new file: a new inode)."""
    path = serving_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise NotPublished(str(path)) from None
    return (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)


def _frame(sql: str, parameters: list | None = None) -> pd.DataFrame:
    """The query's answer on the published snapshot (a copy: callers may change it)."""
    key = (snapshot_key(), sql, tuple(parameters or ()))
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None:
            _CACHE.move_to_end(key)
            return cached.copy()
    with _connection() as con:
        frame = con.execute(sql, parameters or []).df()
    with _CACHE_LOCK:
        _CACHE[key] = frame
        while len(_CACHE) > CACHE_ENTRIES:
            _CACHE.popitem(last=False)
    return frame.copy()


def initiative() -> dict:
    """The initiative's settings the dashboard follows (period type, small cells...)."""
    return _frame("select * from marts.initiative").iloc[0].to_dict()


def published_at() -> str:
    return _frame("select published_at from main.published").iloc[0, 0]


def initiative_name() -> str:
    return _frame("select initiative_name from marts.initiative").iloc[0, 0]


def indicators() -> pd.DataFrame:
    return _frame("select * from marts.indicators order by display_order")


def places() -> pd.DataFrame:
    return _frame("select * from marts.places order by display_order")


def place_tree() -> pd.DataFrame:
    """The places in the hierarchy's order (each place followed by the places below it, in
    registry order), with their level and depth."""
    frame = places()
    if frame.empty:
        return frame
    children: dict = {}
    for row in frame.to_dict("records"):
        parent = row.get("parent_code")
        children.setdefault(parent if isinstance(parent, str) else None, []).append(row)
    ordered, stack = [], list(reversed(children.get(None, [])))
    while stack:
        row = stack.pop()
        ordered.append(row)
        stack.extend(reversed(children.get(row["place_code"], [])))
    return pd.DataFrame(ordered, columns=frame.columns)


# A place's values: those reported there and at every place below it (marts.place_ancestors).
WITHIN_PLACE = "in (select place_code from marts.place_ancestors where ancestor_code = ?)"


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


def base_totals(indicator_code: str | None = None) -> pd.DataFrame:
    """Totals per period of the initiative's type (month or week), every place and the whole
    area; one indicator's or every indicator's."""
    return _frame("""
        select indicator_code, period, period_start, place_code, value, partners_reporting,
            partners_expected, values_counted, parts_unpaired, completeness_state, due_date
        from marts.indicator_period_totals
        where period_type = (select period_type from marts.initiative)
            and (? is null or indicator_code = ?)
        order by indicator_code, place_code, period_start""", [indicator_code, indicator_code])


def category_names() -> dict[str, str]:
    """'age_band=3-4' -> '3 to 4 years', 'sex=f' -> 'Female': how a breakdown key's parts
    read (the registry's names, as the breakdowns mart carries them)."""
    frame = _frame("select distinct dimension_code, category_code, category_name "
                   "from marts.indicator_breakdowns where category_code is not null")
    return {f"{row.dimension_code}={row.category_code}": row.category_name
            for row in frame.itertuples()}


def breakdown_label(key: str | None, names: dict[str, str]) -> str:
    """A breakdown key in words ('3 to 4 years, Female'); '-' for none."""
    if not key or key == "total":
        return "-"
    return ", ".join(names.get(part, part) for part in key.split(";"))


def breakdowns(indicator_code: str, place_code: str) -> pd.DataFrame:
    """An indicator's totals split by each of its breakdown dimensions, with category names."""
    return _frame("""
        select dimension_code, dimension_name, category_code, category_name, category_order,
            period, period_start, value, partners_reporting as contributors
        from marts.indicator_breakdowns
        where indicator_code = ? and place_code = ?
        order by dimension_code, category_order, period_start""",
                  [indicator_code, place_code])


def contributions(indicator_code: str, place_code: str) -> pd.DataFrame:
    """Each partner's part of an indicator's total per period."""
    return _frame("""
        select c.partner_code, p.partner_name, c.period, c.period_start, c.value,
            c.numerator_value, c.denominator_value,
            c.values_counted, c.values_revised, 1 as contributors
        from marts.indicator_contributions c join marts.partners p using (partner_code)
        where c.indicator_code = ? and c.place_code = ?
        order by p.partner_name, c.period_start""", [indicator_code, place_code])


def flagged_periods(indicator_code: str, place_code: str) -> pd.DataFrame:
    """How many current values behind each period's total were flagged as unusual (counts
    only: which partner's rows is for those who may see them)."""
    return _frame(f"""
        select f.period, count(*) as flags,
            count(*) filter (where f.severity = 'extreme') as extreme_flags
        from quality.value_flags f
        join marts.indicators i
            on f.indicator_code in (i.indicator_code, i.numerator_code, i.denominator_code)
        where i.indicator_code = ? and f.outcome = 'current'
            and (? = ? or f.place_code {WITHIN_PLACE})
        group by f.period""", [indicator_code, WHOLE_AREA, place_code, place_code])


def quarantined_periods(indicator_code: str, place_code: str) -> pd.DataFrame:
    """How many values of an indicator (or a ratio's parts) were quarantined per period: the
    total of that period misses them (counts only, by reason)."""
    return _frame(f"""
        select q.period, count(*) as quarantined,
            string_agg(distinct q.quarantine_reason, '; ') as reasons
        from marts.quarantined_values q
        join marts.indicators i
            on q.indicator_code in (i.indicator_code, i.numerator_code, i.denominator_code)
        where i.indicator_code = ? and not q.is_not_data and q.period is not null
            and (? = ? or q.place_code {WITHIN_PLACE})
        group by q.period""", [indicator_code, WHOLE_AREA, place_code, place_code])


def lineage(user: User, indicator_code: str, place_code: str, period: str) -> pd.DataFrame:
    """The values behind one point of a chart, each with where it came from: partner, file,
    sheet, row and column; only the partners whose rows this user may see."""
    where, parameters = _in_scope("v.partner_code", user.partner_scope())
    return _frame(f"""
        select p.partner_name, v.reporting_unit, i.short_name as indicator,
            coalesce(pl.place_name, 'Whole area') as place_name, v.disaggregation, v.value,
            i.unit_name, v.file_name, v.sheet, v.row_number, v.column_name, v.arrived_at
        from marts.indicator_values v
        join marts.indicators i using (indicator_code)
        join marts.indicators wanted
            on v.indicator_code in (wanted.indicator_code, wanted.numerator_code,
                                    wanted.denominator_code)
        join marts.partners p using (partner_code)
        left join marts.places pl on pl.place_code = v.place_code
        where wanted.indicator_code = ? and v.period = ?
            and v.place_code {WITHIN_PLACE} and {where}
        order by p.partner_name, v.reporting_unit, i.display_order, pl.display_order,
            v.disaggregation""", [indicator_code, period, place_code, *parameters])


def base_period_totals(indicator_code: str, place_code: str) -> pd.DataFrame:
    return _frame("""
        select period, period_start, value, partners_reporting, partners_expected,
            values_counted, numerator_value, denominator_value, parts_unpaired,
            completeness_state, due_date
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


def base_period_totals_for(user: User, indicator_code: str, place_code: str) -> pd.DataFrame:
    """Shared totals, for an indicator this user sees in full (else none)."""
    if indicator_code not in set(indicators_seen_in_full(user)["indicator_code"]):
        return base_period_totals("", place_code).iloc[0:0]
    return base_period_totals(indicator_code, place_code)


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
        select f.period, f.rule, f.severity, i.short_name as indicator,
            coalesce(p.place_name, 'Whole area') as place_name, f.disaggregation, f.value,
            f.expected_low, f.expected_high, f.description, i.decimals, i.unit_name,
            f.file_name, f.sheet, f.row_number, f.column_name
        from quality.value_flags f join marts.indicators i using (indicator_code)
        left join marts.places p on p.place_code = f.place_code
        where f.partner_code = ? and f.outcome = 'current' and {where}
        order by f.period desc, f.severity, i.display_order limit ?""",
                  [partner_code, *parameters, limit])


def quarantined_rows(user: User, partner_code: str, limit: int = 200) -> pd.DataFrame:
    """A partner's quarantined values with where they are (file, sheet, row, column): only for
    the partner itself and the backbone."""
    if not user.may_see_partner_rows(partner_code):
        return pd.DataFrame()
    return _frame("""
        select file_name, sheet, row_number, column_name, period_text, place_text,
            indicator_text, value_text, quarantine_reason
        from marts.quarantined_values
        where partner_code = ? and not is_not_data
        order by arrived_at desc, file_name, sheet, row_number, column_name limit ?""",
                  [partner_code, limit])


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
