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
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from murmuration.intake.extract import RECORD_SCHEMA, load_extraction, records_files
from murmuration.intake.landing import Submission
from murmuration.paths import AS_OF_ENV, DBT_PROJECT_DIR, ProjectPaths
from murmuration.registry import Registry, RegistryError
from murmuration.registry.loader import normalise
from murmuration.registry.models import WHOLE_AREA, period_start

PUBLISHED_SCHEMAS = ("marts", "quality")


@contextmanager
def connect(paths: ProjectPaths, read_only: bool = False):
    con = duckdb.connect(str(paths.warehouse), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


# --- registry -> tables ----------------------------------------------------------------------

def registry_tables(registry: Registry) -> dict[str, pa.Table]:
    """The registry as flat tables: one source of truth, many readers."""
    catalogue = registry.catalogue
    units = {u.code: u for u in catalogue.units}
    groups = {g.code: g for g in catalogue.working_groups}
    indicators = []
    indicator_dimensions = []
    for position, i in enumerate(catalogue.indicators):
        rule = registry.status_rule(i)
        quality = registry.quality_rule(i)
        indicators.append({
            "indicator_code": i.code, "indicator_name": i.name, "short_name": i.label,
            "definition": " ".join(i.definition.split()), "unit": i.unit,
            "unit_name": units[i.unit].name or i.unit, "aggregation": i.aggregation.value,
            "direction": i.direction.value, "working_group_code": i.working_group,
            "working_group_name": groups[i.working_group].name, "by_place": i.by_place,
            "valid_min": i.valid_range.min, "valid_max": i.valid_range.max,
            "numerator_code": i.numerator, "denominator_code": i.denominator,
            "factor": i.factor, "decimals": i.decimals, "trend_periods": rule.trend_periods,
            "min_periods": rule.min_periods, "at_risk_tolerance": rule.at_risk_tolerance,
            "complete_share": rule.complete_share,
            **{f"quality_{name}": value for name, value in quality.model_dump().items()},
            "display_order": position,
        })
        for dimension in i.dimensions:
            indicator_dimensions.append({"indicator_code": i.code, "dimension_code": dimension})

    places = [{"place_code": p.code, "place_name": p.name, "display_order": n}
              for n, p in enumerate(registry.dimensions.places)]
    categories = [{"dimension_code": d.code, "dimension_name": d.name, "category_code": c.code,
                   "category_name": c.name, "display_order": n}
                  for d in registry.dimensions.disaggregations
                  for n, c in enumerate(d.categories)]
    partners = [{"partner_code": p.code, "partner_name": p.name, "cadence": p.cadence.value,
                 "report_grain": p.cadence.grain, "due_days": p.due_days,
                 "supersede_by": (p.supersede_by or registry.initiative.supersede_by).value,
                 "declares_units": bool(p.reporting_units),
                 "reports_from": period_start(p.reports_from) if p.reports_from else None,
                 "reports_until": period_start(p.reports_until) if p.reports_until else None}
                for p in registry.partners]
    partner_indicators = [{"partner_code": p.code, "indicator_code": code}
                          for p in registry.partners for code in p.indicators]
    reporting_units = [{"partner_code": p.code, "unit_code": u.code, "unit_name": u.name,
                        "text_key": normalise(text)}
                       for p in registry.partners for u in p.reporting_units
                       for text in sorted({u.code, u.name, *u.aliases})]
    target_points = []
    for t in registry.targets:
        points = [("baseline", t.baseline), *(("milestone", m) for m in t.milestones),
                  ("target", t.target)]
        for sequence, (kind, point) in enumerate(points):
            target_points.append({
                "indicator_code": t.indicator, "place_code": t.place, "point_kind": kind,
                "sequence": sequence, "period": point.period,
                "period_start": period_start(point.period), "target_value": point.value,
                "note": point.note})
    mappings = [{"mapping_name": m.name, "layout": m.layout.value,
                 "partner_source": "column" if m.partner.column else "folder",
                 "duplicate_keys": m.duplicate_keys.value,
                 "period_formats": ", ".join(
                     m.formats(registry.initiative.period_type.value)),
                 "file": str(registry.mapping_files.get(m.name, ""))}
                for m in registry.mappings]
    unit_factors = []
    for m in registry.mappings:
        for code, partner_unit in m.units.items():
            unit = registry.indicators[code].unit
            factor = 1.0 if partner_unit == unit else units[unit].conversions[partner_unit]
            unit_factors.append({"mapping_name": m.name, "indicator_code": code,
                                 "partner_unit": partner_unit, "factor": factor})
    return {
        "indicators": _table(indicators, {"valid_min": pa.float64(), "valid_max": pa.float64(),
                                          "numerator_code": pa.string(),
                                          "denominator_code": pa.string(),
                                          "factor": pa.float64()}),
        "indicator_dimensions": _table(indicator_dimensions, {"indicator_code": pa.string(),
                                                              "dimension_code": pa.string()}),
        "places": _table(places),
        "categories": _table(categories, {"dimension_code": pa.string(),
                                          "dimension_name": pa.string(),
                                          "category_code": pa.string(),
                                          "category_name": pa.string(),
                                          "display_order": pa.int64()}),
        "partners": _table(partners, {"reports_from": pa.date32(), "reports_until": pa.date32()}),
        "partner_indicators": _table(partner_indicators, {"partner_code": pa.string(),
                                                          "indicator_code": pa.string()}),
        "target_points": _table(target_points, {
            "indicator_code": pa.string(), "place_code": pa.string(), "point_kind": pa.string(),
            "sequence": pa.int64(), "period": pa.string(), "period_start": pa.date32(),
            "target_value": pa.float64(),
            "note": pa.string()}),
        "mappings": _table(mappings),
        "reporting_units": _table(reporting_units, {
            "partner_code": pa.string(), "unit_code": pa.string(), "unit_name": pa.string(),
            "text_key": pa.string()}),
        "code_lookup": _table(code_lookup(registry)),
        "relations": _table(
            [{"relation_id": n, "kind": r.kind.value, "a_code": r.a, "b_code": r.b,
              "tolerance": r.tolerance, "description": r.description}
             for n, r in enumerate(catalogue.relations)],
            {"relation_id": pa.int64(), "kind": pa.string(), "a_code": pa.string(),
             "b_code": pa.string(), "tolerance": pa.float64(), "description": pa.string()}),
        "combo_lookup": _table(
            [{"mapping_name": m.name, "combo_key": normalise(combo), "dimension_code": d,
              "category_text": c}
             for m in registry.mappings for combo, parts in m.combos.items()
             for d, c in parts.items()],
            {"mapping_name": pa.string(), "combo_key": pa.string(),
             "dimension_code": pa.string(), "category_text": pa.string()}),
        "unit_factors": _table(unit_factors, {"mapping_name": pa.string(),
                                              "indicator_code": pa.string(),
                                              "partner_unit": pa.string(),
                                              "factor": pa.float64()}),
    }


def code_lookup(registry: Registry) -> list[dict]:
    """Every text that stands for a code: registry names and aliases (for all mappings, marked
    ``*``) and each mapping's own ``codes``. Texts are compared normalised (case, accents and
    spacing ignored); a text that would mean two codes is an error, never a guess."""
    entries: dict[tuple[str, str, str], str] = {}
    problems: list[str] = []

    def add(mapping: str, role: str, text: str, code: str, where: str) -> None:
        key = (mapping, role, normalise(text))
        if entries.get(key, code) != code:
            problems.append(f"{where}: {text!r} would mean both {entries[key]!r} and {code!r} "
                            f"for {role}")
        entries[key] = code

    for i in registry.catalogue.indicators:
        for text in sorted({i.code, i.name, i.label, *i.aliases}):
            add("*", "indicator", text, i.code, "registry/indicators.yaml")
    add("*", "place", WHOLE_AREA, WHOLE_AREA, "(built in: the whole area)")
    for p in registry.dimensions.places:
        for text in [p.code, p.name, *p.aliases]:
            add("*", "place", text, p.code, "registry/dimensions.yaml")
    for d in registry.dimensions.disaggregations:
        for c in d.categories:
            for text in [c.code, c.name, *c.aliases]:
                add("*", d.code, text, c.code, "registry/dimensions.yaml")
    for p in registry.partners:
        for text in [p.code, p.name, *p.aliases]:
            add("*", "partner", text, p.code, "registry/partners.yaml")
    for m in registry.mappings:
        for role, codes in m.codes.items():
            for text, code in codes.items():
                add(m.name, role, text, code, str(registry.mapping_files.get(m.name, m.name)))
    if problems:
        raise RegistryError(problems)
    return [{"mapping_name": m, "role": r, "text_key": t, "code": c}
            for (m, r, t), c in sorted(entries.items())]


def as_of() -> datetime:
    """The moment reports are judged against (due dates): now, unless MURMURATION_AS_OF fixes
    it (reproducible runs and tests)."""
    fixed = os.environ.get(AS_OF_ENV)
    if fixed:
        moment = datetime.fromisoformat(fixed)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)


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
        })
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=SUBMISSION_SCHEMA)


def definitions_fingerprint(registry: Registry, tables: dict[str, pa.Table]) -> str:
    """Changes whenever the registry, the mappings or the dbt project's SQL change: the
    incremental models rebuild every submission then (int_records_*, stg_landing__records)."""
    digest = hashlib.sha256()
    digest.update(registry.initiative.model_dump_json().encode())
    for name in sorted(tables):
        digest.update(name.encode())
        digest.update(json.dumps(tables[name].to_pylist(), sort_keys=True, default=str).encode())
    for path in sorted(DBT_PROJECT_DIR.glob("**/*")):
        if path.suffix in {".sql", ".yml"} and "target" not in path.parts and \
                "logs" not in path.parts:
            digest.update(str(path.relative_to(DBT_PROJECT_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def prepare_sources(paths: ProjectPaths, registry: Registry,
                    submissions: list[Submission]) -> dict[str, int]:
    """(Re)write the ``registry`` and ``landing`` schemas dbt reads. Returns row counts."""
    paths.ensure()
    tables = registry_tables(registry)
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
            "? as definitions_fingerprint, ? as small_cells_min_contributors, "
            "? as small_cells_roles, ? as cell_chars_in_messages",
            [initiative.name, " ".join(initiative.description.split()),
             initiative.period_type.value, initiative.overlap_rule.value,
             period_start(initiative.reporting_start) if initiative.reporting_start else None,
             as_of().isoformat(), card.completeness_target, card.timeliness_target,
             card.weights["completeness"], card.weights["timeliness"], card.weights["validity"],
             card.weights["plausibility"], definitions_fingerprint(registry, tables),
             initiative.small_cells.min_contributors, ",".join(initiative.small_cells.roles),
             initiative.limits.cell_chars_in_messages])
        submission_table = submissions_table(paths, submissions)
        con.register("incoming", submission_table)
        con.execute("create or replace table landing.submissions as select * from incoming")
        con.unregister("incoming")
        counts["landing.submissions"] = submission_table.num_rows
        files = [str(f) for f in records_files(paths)]
        if files:
            listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
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

def publish(paths: ProjectPaths) -> dict[str, int]:
    """Copy the marts and quality results into a new serving file and swap it in atomically."""
    temporary = paths.serving.with_name(paths.serving.name + ".building")
    temporary.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    con = duckdb.connect(str(temporary))
    try:
        con.execute(f"attach '{paths.warehouse}' as warehouse (read_only)")
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = 'warehouse' and table_schema in "
            f"({', '.join(repr(s) for s in PUBLISHED_SCHEMAS)}) order by 1, 2").fetchall()
        for schema, name in tables:
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"create table {schema}.{name} as select * from warehouse.{schema}.{name}")
            counts[f"{schema}.{name}"] = con.execute(
                f"select count(*) from {schema}.{name}").fetchall()[0][0]
        # For the backbone's pipeline page only: what the reader said about each file it could
        # not read (partners get the plain reason in marts.submissions.message, never this).
        if con.execute("select count(*) from information_schema.columns where table_catalog = "
                       "'warehouse' and table_schema = 'landing' and table_name = 'submissions' "
                       "and column_name = 'detail'").fetchall()[0][0]:
            con.execute("create schema if not exists intake")
            con.execute("create table intake.file_details as select submission_id, detail from "
                        "warehouse.landing.submissions where detail is not null")
            counts["intake.file_details"] = con.execute(
                "select count(*) from intake.file_details").fetchall()[0][0]
        con.execute("create table main.published as select ? as published_at, ? as tables",
                    [datetime.now(UTC).isoformat(timespec="seconds"), json.dumps(counts)])
        con.execute("detach warehouse")
    finally:
        con.close()
    os.replace(temporary, paths.serving)
    return counts


def _table(rows: list[dict], types: dict[str, pa.DataType] | None = None) -> pa.Table:
    if rows:
        table = pa.Table.from_pylist(rows)
        for name, kind in (types or {}).items():
            if name in table.column_names:
                index = table.column_names.index(name)
                table = table.set_column(index, name, table.column(name).cast(kind))
        for index, column in enumerate(table.schema):
            if pa.types.is_null(column.type):  # every value empty: still a typed column
                table = table.set_column(index, column.name, table.column(index).cast(pa.string()))
        return table
    return pa.schema(list((types or {}).items())).empty_table()

