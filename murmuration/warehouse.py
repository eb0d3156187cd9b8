"""The warehouse: what dbt reads (registry tables, landed submissions) and what the dashboard reads.

* ``prepare_sources`` writes the registry as tables and exposes landed submissions and records
  (Parquet, one file per submission) as views, in the schemas dbt declares as sources.
* ``publish`` copies the marts into a separate serving file, built under a temporary name and
  swapped in with ``os.replace``, so the dashboard never sees a half-written state and never holds
  a lock the pipeline needs (DuckDB allows one writing process per file).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from murmuration.intake.extract import RECORD_SCHEMA, load_extraction, records_files
from murmuration.intake.landing import Submission
from murmuration.paths import AS_OF_ENV, DBT_PROJECT_DIR, ProjectPaths, dbt_project_files
from murmuration.registry import Registry
from murmuration.registry.models import period_start
from murmuration.registry.tables import registry_tables
from murmuration.review import accepted_table
from murmuration.sqltext import literal

PUBLISHED_SCHEMAS = ("marts", "quality")


@contextmanager
def connect(paths: ProjectPaths, read_only: bool = False):
    con = duckdb.connect(str(paths.warehouse), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_of() -> datetime:
    """The moment reports are judged against (due dates): now, unless MURMURATION_AS_OF fixes
    it (reproducible runs and tests)."""
    fixed = os.environ.get(AS_OF_ENV)
    return _aware(datetime.fromisoformat(fixed)) if fixed else datetime.now(UTC)


# --- sources for dbt -------------------------------------------------------------------------

SUBMISSION_SCHEMA = pa.schema([
    ("submission_id", pa.string()), ("sha256", pa.string()), ("folder", pa.string()),
    ("file_name", pa.string()), ("inbox_path", pa.string()), ("received_path", pa.string()),
    ("size_bytes", pa.int64()), ("arrived_at", pa.string()), ("landed_at", pa.string()),
    ("status", pa.string()), ("message", pa.string()), ("file_format", pa.string()),
    ("rows_read", pa.int64()), ("sheets", pa.list_(pa.string())),
    ("reader_details", pa.string()), ("mapping_name", pa.string()), ("sheet", pa.string()),
    ("header_row", pa.int64()), ("structure_rows", pa.int64()),
    ("other_sheet_rows", pa.int64()), ("empty_rows", pa.int64()), ("data_rows", pa.int64()),
    ("records", pa.int64()), ("extract_problem", pa.string()),
    ("extraction_fingerprint", pa.string()),
    ("unused_columns", pa.list_(pa.string())), ("unused_column_count", pa.int64()),
    ("missing_value_columns", pa.list_(pa.string())), ("detail", pa.string()),
    ("modified_at", pa.string()), ("arrival_source", pa.string()),
    ("mapping_names", pa.list_(pa.string())), ("mapping_note", pa.string()),
])


def submissions_table(paths: ProjectPaths, submissions: list[Submission]) -> pa.Table:
    rows = []
    for submission in submissions:
        row = asdict(submission)
        extraction = load_extraction(paths, submission.submission_id)
        row.update({
            "mapping_name": extraction.mapping_name if extraction else None,
            "sheet": extraction.sheet if extraction else None,
            "header_row": extraction.header_row if extraction else None,
            "structure_rows": extraction.structure_rows if extraction else 0,
            "other_sheet_rows": extraction.other_sheet_rows if extraction else 0,
            "empty_rows": extraction.empty_rows if extraction else 0,
            "unused_column_count": extraction.unused_column_count if extraction else 0,
            "data_rows": extraction.data_rows if extraction else 0,
            "records": extraction.records if extraction else 0,
            "extraction_fingerprint": extraction.fingerprint if extraction else None,
            "extract_problem": extraction.problem if extraction else None,
            "unused_columns": extraction.unused_columns if extraction else [],
            "missing_value_columns": extraction.missing_value_columns if extraction else [],
            "mapping_names": (extraction.mapping_names or
                              ([extraction.mapping_name] if extraction.mapping_name else []))
            if extraction else [],
            "mapping_note": extraction.mapping_note if extraction else None,
        })
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=SUBMISSION_SCHEMA)


# Registry tables whose rows belong to one mapping (mapping_name; '*' rows belong to all).
PER_MAPPING_TABLES = ("mappings", "code_lookup", "combo_lookup", "unit_factors")


def definitions_fingerprint(registry: Registry, tables: dict[str, pa.Table], sql: str) -> str:
    """Changes whenever the registry, the rows every mapping shares or the dbt project's SQL
    (``sql``: sql_fingerprint()) change: the incremental models that resolve and judge
    records rebuild every submission then (int_records_*). A mapping's own rows are in
    ``mapping_fingerprints``; stg_landing__records follows the landed records and the SQL
    only."""
    digest = hashlib.sha256()
    digest.update(registry.initiative.model_dump_json().encode())
    for name in sorted(tables):
        rows = tables[name].to_pylist()
        if name in PER_MAPPING_TABLES:
            rows = [row for row in rows if row["mapping_name"] == "*"]
        digest.update(name.encode())
        digest.update(json.dumps(rows, sort_keys=True, default=str).encode())
    digest.update(sql.encode())  # sql_fingerprint()
    return digest.hexdigest()[:16]


def sql_fingerprint() -> str:
    """Changes whenever the dbt project's SQL (models, macros, tests, settings) changes: what
    stg_landing__records is built from besides a submission's landed records."""
    digest = hashlib.sha256()
    for path in dbt_project_files():
        digest.update(str(path.relative_to(DBT_PROJECT_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def mapping_fingerprints(tables: dict[str, pa.Table]) -> dict[str, str]:
    """Per mapping, what its submissions' build depends on besides the shared definitions: its
    codes, combos, unit factors and settings. Changing one mapping rebuilds its submissions
    only (the cost follows the change)."""
    rows = {name: tables[name].to_pylist() for name in PER_MAPPING_TABLES}
    found = {}
    for mapping in rows["mappings"]:
        name = mapping["mapping_name"]
        mine = {table: [row for row in rows[table] if row["mapping_name"] == name]
                for table in PER_MAPPING_TABLES}
        found[name] = hashlib.sha256(
            json.dumps(mine, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return found


def prepare_sources(paths: ProjectPaths, registry: Registry, submissions: list[Submission],
                    judged_at: datetime | None = None) -> dict[str, int]:
    """(Re)write the ``registry`` and ``landing`` schemas dbt reads, due dates judged at
    ``judged_at`` (default: ``as_of()``). Returns row counts."""
    paths.ensure()
    tables = registry_tables(registry)
    sql = sql_fingerprint()
    shared = definitions_fingerprint(registry, tables, sql)
    per_mapping = mapping_fingerprints(tables)
    mappings = tables["mappings"]
    tables["mappings"] = mappings.append_column("definitions_fingerprint", pa.array(
        [per_mapping[name] for name in mappings.column("mapping_name").to_pylist()],
        pa.string()))
    counts = {}
    with connect(paths) as con:
        con.execute("create schema if not exists registry")
        con.execute("create schema if not exists landing")
        for name, table in tables.items():
            con.register("incoming", table)
            con.execute(f"create or replace table registry.{name} as select * from incoming")
            con.unregister("incoming")
            counts[f"registry.{name}"] = table.num_rows
        initiative = registry.initiative
        card = initiative.scorecard
        con.execute(
            "create or replace table registry.initiative as select ? as initiative_name, "
            "? as description, ? as period_type, ? as overlap_rule, "
            "cast(? as date) as reporting_start, cast(? as timestamptz) as as_of, "
            "? as completeness_target, ? as timeliness_target, ? as weight_completeness, "
            "? as weight_timeliness, ? as weight_validity, ? as weight_plausibility, "
            "? as definitions_fingerprint, ? as sql_fingerprint, "
            "? as small_cells_min_contributors, "
            "? as small_cells_roles, ? as cell_chars_in_messages, ? as scorecard_reports",
            [initiative.name, " ".join(initiative.description.split()),
             initiative.period_type.value, initiative.overlap_rule.value,
             period_start(initiative.reporting_start) if initiative.reporting_start else None,
             _aware(judged_at or as_of()).isoformat(), card.completeness_target, card.timeliness_target,
             card.weights["completeness"], card.weights["timeliness"], card.weights["validity"],
             card.weights["plausibility"], shared, sql,
             initiative.small_cells.min_contributors, ",".join(initiative.small_cells.roles),
             initiative.limits.cell_chars_in_messages, card.recent_reports])
        submission_table = submissions_table(paths, submissions)
        con.register("incoming", submission_table)
        con.execute("create or replace table landing.submissions as select * from incoming")
        con.unregister("incoming")
        counts["landing.submissions"] = submission_table.num_rows
        accepted = accepted_table(paths)
        con.register("incoming", accepted)
        con.execute("create or replace table landing.accepted_submissions as "
                    "select * from incoming")
        con.unregister("incoming")
        files = [str(f) for f in records_files(paths)]
        if files:
            listing = ", ".join(literal(f) for f in files)
            con.execute("create or replace view landing.records as select * from "
                        f"read_parquet([{listing}])")
        else:
            con.register("incoming", RECORD_SCHEMA.empty_table())
            con.execute("create or replace table landing.records as select * from incoming")
            con.unregister("incoming")
        counts["landing.records"] = con.execute(
            "select count(*) from landing.records").fetchall()[0][0]
    return counts


# --- publishing ------------------------------------------------------------------------------

# The columns saying what a keyed incremental model's rows were built from, and their key
# (dbt_project/macros): rows of a key built from the same inputs are the same rows.
INPUTS_COLUMNS = {"partner_inputs": "partner_key", "period_inputs": "period_start"}


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str,
             name: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from information_schema.columns where table_catalog = ? "
        "and table_schema = ? and table_name = ? order by ordinal_position",
        [catalog, schema, name]).fetchall()


def _sync_keyed_table(con: duckdb.DuckDBPyConnection, schema: str, name: str, key: str,
                      inputs: str) -> bool:
    """Bring a published copy of a keyed table up to the warehouse's, key by key: drop the rows
    of keys built from other inputs since, add the warehouse's rows of those keys (and of new
    keys). Whether any row changed."""
    pair = f"{key}::varchar || ':' || {inputs}::varchar"
    table = f"{schema}.{name}"
    con.execute(f"create or replace temporary table live as "
                f"select distinct {pair} as pair from warehouse.{table}")
    removed = con.execute(f"delete from {table} where {pair} not in "
                          f"(select pair from live)").fetchall()[0][0]
    added = con.execute(
        f"insert into {table} select * from warehouse.{table} where {pair} not in "
        f"(select distinct {pair} from {table})").fetchall()[0][0]
    con.execute("drop table live")
    return bool(removed or added)


@dataclass
class Published:
    counts: dict[str, int]  # rows of each published table
    copied: list[str]  # the tables copied whole
    updated: list[str]  # the keyed tables whose changed keys were replaced


def publish(paths: ProjectPaths) -> Published:
    """Copy the marts and quality results into a new serving file and swap it in atomically.
    The new file starts as a copy of the published one: in a keyed table (its rows carry what
    they were built from) only the keys built from other inputs since are replaced; the small
    unkeyed tables are copied whole (the cost follows what changed; the readers never see a
    half-written file)."""
    temporary = paths.serving.with_name(paths.serving.name + ".building")
    temporary.unlink(missing_ok=True)
    if paths.serving.exists():
        shutil.copyfile(paths.serving, temporary)
    counts: dict[str, int] = {}
    result = Published(counts, [], [])
    con = duckdb.connect(str(temporary))
    try:
        con.execute(f"attach '{paths.warehouse}' as warehouse (read_only)")
        serving = con.execute("select current_database()").fetchone()[0]
        published = set(con.execute(
            "select table_schema, table_name from information_schema.tables where "
            "table_catalog = ?", [serving]).fetchall())
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = 'warehouse' and table_schema in "
            f"({', '.join(repr(s) for s in PUBLISHED_SCHEMAS)}) order by 1, 2").fetchall()
        for schema, name in published - set(tables):
            con.execute(f"drop table {schema}.{name}")
        for schema, name in tables:
            con.execute(f"create schema if not exists {schema}")
            columns = _columns(con, "warehouse", schema, name)
            keyed = [(key, inputs) for inputs, key in INPUTS_COLUMNS.items()
                     if {key, inputs} <= {column for column, _ in columns}]
            if keyed and (schema, name) in published and \
                    _columns(con, serving, schema, name) == columns:
                if _sync_keyed_table(con, schema, name, *keyed[0]):
                    result.updated.append(f"{schema}.{name}")
            else:
                con.execute(f"create or replace table {schema}.{name} as "
                            f"select * from warehouse.{schema}.{name}")
                result.copied.append(f"{schema}.{name}")
            counts[f"{schema}.{name}"] = con.execute(
                f"select count(*) from {schema}.{name}").fetchall()[0][0]
        # For the backbone's pipeline page only: what the reader said about each file it could
        # not read (partners get the plain reason in marts.submissions.message, never this).
        if con.execute("select count(*) from information_schema.columns where table_catalog = "
                       "'warehouse' and table_schema = 'landing' and table_name = 'submissions' "
                       "and column_name = 'detail'").fetchall()[0][0]:
            con.execute("create schema if not exists intake")
            con.execute("create or replace table intake.file_details as select submission_id, "
                        "detail from warehouse.landing.submissions where detail is not null")
            counts["intake.file_details"] = con.execute(
                "select count(*) from intake.file_details").fetchall()[0][0]
        con.execute("create or replace table main.published as select ? as published_at, "
                    "? as tables", [datetime.now(UTC).isoformat(timespec="seconds"),
                                    json.dumps(counts)])
        con.execute("detach warehouse")
    finally:
        con.close()
    os.replace(temporary, paths.serving)
    return result

