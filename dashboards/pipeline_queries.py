"""What the pipeline status page reads (backbone only; the page checks the role before calling).

Two read-only sources:

* the published serving file (files, freshness, failed expectations), opened read-only per call
  like every dashboard query;
* the initiative's Dagster instance (``<state>/dagster_home``), for the runs: its SQLite run and
  event-log storage opened read-only (``mode=ro``), so the page never writes to it, never locks
  it and does not import Dagster. Every run shows there, whoever started it (``murmuration run``,
  the inbox sensor, the schedule or the Dagster UI).
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from dashboards.queries import NotPublished, serving_path
from murmuration.paths import DAGSTER_URL_ENV, ProjectPaths

DEFAULT_DAGSTER_URL = "http://127.0.0.1:3000"
RUN_OUTCOMES = {"SUCCESS": "succeeded", "FAILURE": "failed", "CANCELED": "cancelled",
                "CANCELING": "being cancelled", "STARTED": "running", "STARTING": "starting",
                "QUEUED": "queued", "NOT_STARTED": "not started"}
EXPECTATIONS = {
    "expect_column_values_to_not_be_null": "a value is present",
    "expect_column_values_to_be_in_set": "the value is one the registry knows",
    "expect_column_values_to_be_between": "the value is within the valid range",
    "expect_column_values_to_be_unique": "no value is reported twice",
    "expect_compound_columns_to_be_unique": "no value is reported twice",
}


def dagster_url() -> str:
    """The Dagster UI's address: `murmuration serve` passes the port it chose."""
    return (os.environ.get(DAGSTER_URL_ENV) or DEFAULT_DAGSTER_URL).rstrip("/")


def run_link(run_id: str) -> str:
    return f"{dagster_url()}/runs/{run_id}"


def asset_checks_link(asset_path: list[str]) -> str:
    return f"{dagster_url()}/assets/{'/'.join(asset_path)}?view=checks"


# --- the serving file --------------------------------------------------------------------------

@contextmanager
def _serving():
    path = serving_path()
    if not path.exists():
        raise NotPublished(str(path))
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def _has_table(con, schema: str, name: str) -> bool:
    return bool(con.execute("select count(*) from information_schema.tables where table_schema "
                            "= ? and table_name = ?", [schema, name]).fetchall()[0][0])


def published_at() -> str:
    with _serving() as con:
        return con.execute("select published_at from main.published").fetchall()[0][0]


def files_not_read() -> pd.DataFrame:
    """Every received file that could not be read (or is not a submission), with the partner's
    reason and, apart, what the reader said (for the data team)."""
    with _serving() as con:
        detail = ("d.detail" if _has_table(con, "intake", "file_details")
                  else "null::varchar as detail")
        join = ("left join intake.file_details d using (submission_id)"
                if _has_table(con, "intake", "file_details") else "")
        return con.execute(f"""
            select s.submission_id, coalesce(p.partner_name, s.folder) as partner,
                s.inbox_path, s.file_name, s.arrived_at, s.landing_status, s.message, {detail}
            from marts.submissions s
            left join marts.partners p using (partner_code)
            {join}
            where s.landing_status <> 'landed'
            order by s.landing_status desc, s.arrived_at desc, s.inbox_path""").df()


def inbox_not_files() -> pd.DataFrame:
    """Inbox entries the last landing set aside unread (links, pipes, devices), in the shape of
    files_not_read: from the state folder beside the serving file."""
    from murmuration.intake.landing import not_files_state

    looked_at, not_files = not_files_state(serving_path().parent)
    if not not_files:
        return pd.DataFrame()
    with _serving() as con:  # a partner's folder is named by its code
        names = dict(con.execute("select partner_code, partner_name from marts.partners"
                                 ).fetchall())
    return pd.DataFrame([{
        "submission_id": None, "partner": names.get(location.split("/")[0],
                                                    location.split("/")[0]),
        "inbox_path": location,
        "file_name": location.rsplit("/", 1)[-1], "arrived_at": looked_at,
        "landing_status": "not_a_file", "message": reason, "detail": None}
        for location, reason in not_files])


def files_not_mapped() -> pd.DataFrame:
    """Files read but not taken: no mapping covers them, or their mapping could not be applied
    (header not found, template changed)."""
    with _serving() as con:
        return con.execute("""
            select coalesce(p.partner_name, s.folder) as partner, s.inbox_path, s.file_name,
                s.arrived_at, s.mapping_name, s.message
            from marts.submissions s
            left join marts.partners p using (partner_code)
            where s.landing_status = 'landed' and (s.mapping_name is null or s.message is not null)
            order by s.arrived_at desc, s.inbox_path""").df()


def files_held() -> pd.DataFrame:
    """Replacements held for review (not published until accepted), with what each would do."""
    with _serving() as con:
        columns = {r[0] for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' "
            "and table_name = 'submissions'").fetchall()}
        if "held_reason" not in columns:  # a snapshot from before review existed
            return pd.DataFrame(columns=["submission_id", "partner", "inbox_path", "arrived_at",
                                         "held_reason"])
        return con.execute("""
            select s.submission_id, coalesce(p.partner_name, s.folder) as partner,
                s.inbox_path, s.arrived_at, s.held_reason
            from marts.submissions s
            left join marts.partners p using (partner_code)
            where s.held_reason is not null
            order by s.arrived_at desc, s.inbox_path""").df()


def freshness() -> pd.DataFrame:
    """Per partner: its last file, the latest period it reported, the reports it owes and when
    the next one is due, judged as of the moment the pipeline judged reports (marts.initiative)."""
    with _serving() as con:
        return con.execute("""
            with moment as (select as_of, cast(as_of as date) as today from marts.initiative),
            files as (
                select partner_code, max(arrived_at) as last_arrival,
                    arg_max(file_name, arrived_at) as last_file
                from marts.submissions group by partner_code),
            reports as (
                select r.partner_code,
                    max(r.report_start) filter (where r.received) as latest_start,
                    arg_max(r.report_period, r.report_start) filter (where r.received)
                        as latest_period,
                    count(*) filter (where r.expected and not r.received
                                     and r.due_date < moment.today) as reports_missing,
                    arg_max(r.report_period, r.report_start) filter (
                        where r.expected and not r.received and r.due_date < moment.today)
                        as last_missing,
                    min(r.due_date) filter (where not r.received and r.due_date >= moment.today)
                        as owed_due,
                    max(r.report_end) as last_end,
                    any_value(r.report_grain) as grain
                from quality.partner_period_reports r, moment
                group by r.partner_code)
            select p.partner_code, p.partner_name, f.last_arrival, f.last_file,
                r.latest_period, r.latest_start,
                date_diff('day', cast(f.last_arrival as date), moment.today) as days_since,
                coalesce(r.reports_missing, 0) as reports_missing, r.last_missing,
                coalesce(r.owed_due, cast(case coalesce(r.grain, p.report_grain)
                    when 'week' then r.last_end + 7
                    when 'quarter' then last_day(r.last_end + interval 3 month)
                    when 'year' then r.last_end + interval 1 year
                    else last_day(r.last_end + interval 1 month) end as date)
                    + cast(p.due_days as integer)) as next_due,
                moment.as_of
            from marts.partners p
            cross join moment
            left join files f using (partner_code)
            left join reports r using (partner_code)
            order by p.partner_name""").df()


def failed_expectations() -> pd.DataFrame:
    """The Great Expectations results that failed, per submission, latest validation first."""
    with _serving() as con:
        if not _has_table(con, "quality", "expectation_results"):
            return pd.DataFrame()
        return con.execute("""
            select coalesce(p.partner_name, s.partner_code) as partner, s.file_name,
                e.expectation_type, e.column_name, e.condition, e.unexpected_count,
                array_to_string(e.unexpected_examples, ', ') as examples, e.blocking,
                e.validated_at
            from quality.expectation_results e
            left join marts.submissions s using (submission_id)
            left join marts.partners p on p.partner_code = s.partner_code
            where not e.success
            order by e.blocking desc, e.validated_at desc, partner, s.file_name""").df()


def files_in_window(start: datetime, end: datetime) -> dict[str, int]:
    """What a run did to the files: those landed between its start and end, by outcome, and
    their rows and values quarantined (from the published snapshot)."""
    with _serving() as con:
        row = con.execute("""
            select count(*),
                count(*) filter (where landing_status = 'landed'),
                count(*) filter (where landing_status = 'unreadable'),
                count(*) filter (where landing_status = 'ignored'),
                count(*) filter (where rows_quarantined > 0),
                coalesce(sum(rows_quarantined), 0), coalesce(sum(values_quarantined), 0)
            from marts.submissions where landed_at between ? and ?""",
                          [start, end]).fetchall()[0]
    keys = ("received", "landed", "unreadable", "ignored", "files_with_quarantine",
            "rows_quarantined", "values_quarantined")
    return dict(zip(keys, (int(v) for v in row), strict=True))


# --- the Dagster instance ------------------------------------------------------------------------

@dataclass
class Run:
    run_id: str
    job: str
    status: str
    started: datetime | None
    ended: datetime | None
    created: datetime | None

    @property
    def outcome(self) -> str:
        return RUN_OUTCOMES.get(self.status, self.status.lower().replace("_", " "))

    @property
    def seconds(self) -> float | None:
        if self.started and self.ended:
            return (self.ended - self.started).total_seconds()
        return None


def _history() -> Path:
    return ProjectPaths.from_env().dagster_home / "history"


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)


def _instant(value) -> datetime | None:
    return datetime.fromtimestamp(float(value), UTC) if value is not None else None


def runs(limit: int = 10) -> list[Run]:
    """The latest runs recorded in the initiative's Dagster instance, newest first."""
    database = _history() / "runs.db"
    if not database.exists():
        return []
    with closing(_read_only(database)) as con:
        rows = con.execute(
            "select run_id, pipeline_name, status, start_time, end_time, create_timestamp "
            "from runs order by coalesce(start_time, 0) desc, id desc limit ?", [limit]
        ).fetchall()
    return [Run(run_id, job, status, _instant(start), _instant(end),
                pd.Timestamp(created).tz_localize(UTC).to_pydatetime() if created else None)
            for run_id, job, status, start, end, created in rows]


def failed_checks(run_id: str) -> list[dict]:
    """The asset checks that failed in a run: asset, check, severity, blocking."""
    index = _history() / "runs" / "index.db"
    if not index.exists():
        return []
    with closing(_read_only(index)) as con:
        rows = con.execute(
            "select asset_key, check_name, evaluation_event from asset_check_executions "
            "where run_id = ? and execution_status = 'FAILED' order by id", [run_id]).fetchall()
    checks = []
    for asset_key, check_name, event in rows:
        path = json.loads(asset_key) if asset_key else []
        data = {}
        try:
            data = json.loads(event or "{}")["dagster_event"]["event_specific_data"]
        except (KeyError, TypeError, ValueError):
            pass
        severity = ((data.get("severity") or {}).get("__enum__") or "").rpartition(".")[2]
        checks.append({"asset": "/".join(path), "asset_path": path, "check": check_name,
                       "severity": severity.lower() or "error",
                       "blocking": bool(data.get("blocking")),
                       "description": data.get("description")})
    return checks


def step_failures(run_id: str) -> list[str]:
    """The steps that failed in a run (its own event log, read-only)."""
    log = _history() / "runs" / f"{run_id}.db"
    if not log.exists():
        return []
    with closing(_read_only(log)) as con:
        return [row[0] for row in con.execute(
            "select distinct step_key from event_logs where dagster_event_type = 'STEP_FAILURE' "
            "order by step_key").fetchall()]


def expectation_text(expectation_type: str) -> str:
    """A Great Expectations expectation in words: what each value should satisfy."""
    if expectation_type in EXPECTATIONS:
        return EXPECTATIONS[expectation_type]
    return expectation_type.removeprefix("expect_").replace("_", " ")
