"""Run the generated suite with Great Expectations on each submission's values, as they arrive.

Two scopes, each validated per submission (small frames, never a whole warehouse table):

* ``submission``: every value a submission reported (before quarantine). Failures are expected
  when a partner sends bad data; they tell the partner what broke which definition. Warning.
* ``published``: the values of that submission that are current (they make up
  ``marts.indicator_values``). Any failure means a value that breaks an agreed definition would
  be published. Blocking.

Only submissions whose values (or the suite) changed since they were last validated are
validated again (which ones may have: what dbt built them from, see _submissions), in pieces
of up to CHUNK_ROWS values; a submission whose published values are all of its values (nothing
quarantined, superseded or withdrawn) is one frame in both scopes, validated once (its
``published`` results are its ``submission`` results; GX's own results and Data Docs hold its
submission validation); many pieces (a full refresh) are validated in several processes at
once (_Validations). Results go to
``quality.expectation_results`` for the dashboard; GX's own validation results and Data Docs
(HTML) go to the initiative's ``gx/`` folder.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
from great_expectations.core.expectation_suite import ExpectationSuite  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.exceptions import DataContextError  # noqa: E402

from expectations.suite import (  # noqa: E402
    KEY_COLUMNS,
    SUITE_NAME,
    expectation_key,
    suite_expectations,
    suite_fingerprint,
)
from murmuration.paths import ProjectPaths  # noqa: E402
from murmuration.registry import Registry  # noqa: E402
from murmuration.warehouse import connect  # noqa: E402

_FRAME = ("select r.record_id, r.submission_id, " + ", ".join(f"r.{c}" for c in KEY_COLUMNS)
          + ", r.dedupe_key, coalesce(m.duplicate_keys, 'quarantine') as duplicate_keys "
          "from {table} as r "
          "left join registry.mappings as m using (mapping_name) where {condition}")
# Each scope: the model its values come from, which of its rows, and the column that says what a
# row was built from (the model's incremental fingerprint: the same fingerprint, the same rows).
_SCOPE_ROWS = {
    "submission": ("intermediate.int_records_validated",
                   "r.extract_problem is null and not r.is_withdrawal", "build_fingerprint"),
    # Each value as reported and accepted (before rows a mapping sums per key are added up):
    # valid ranges are about one reported value.
    "published": ("intermediate.int_records_outcomes", "r.outcome = 'current'",
                  "partner_inputs"),
}
SCOPES = {scope: _FRAME.format(table=table, condition=condition)
          for scope, (table, condition, _) in _SCOPE_ROWS.items()}
BLOCKING_SCOPES = {"published"}
CHUNK_ROWS = 500_000  # values per validation at most: few GX runs, memory bounded
MIN_PIECE_ROWS = 50_000  # values per validation at least, when split between workers
PARALLEL_FROM_VALUES = 200_000  # fewer values to validate: in this process (a fork costs more)
WORKERS_ENV = "MURMURATION_GX_WORKERS"
ROWS_TO_LOCATE = 20_000  # unexpected rows GX is asked to locate in one validation (see _validate)
RESULT_SCHEMA = pa.schema([
    ("scope", pa.string()), ("submission_id", pa.string()), ("suite_name", pa.string()),
    ("expectation_id", pa.string()), ("expectation_type", pa.string()),
    ("column_name", pa.string()), ("condition", pa.string()), ("kwargs", pa.string()),
    ("success", pa.bool_()), ("element_count", pa.int64()), ("unexpected_count", pa.int64()),
    ("unexpected_examples", pa.list_(pa.string())), ("blocking", pa.bool_()),
    ("validated_at", pa.string()),
])
EXAMPLES = 5


@dataclass
class QualityReport:
    suite_fingerprint: str
    expectations: int
    validated: dict[str, int] = field(default_factory=dict)  # scope -> submissions validated now
    failing: dict[str, list[dict]] = field(default_factory=dict)  # scope -> failing results
    data_docs: str | None = None

    def failures(self, scope: str) -> int:
        return sum(row["unexpected_count"] for row in self.failing.get(scope, []))


def open_context(paths: ProjectPaths):
    """The initiative's file context (``<state>/gx``), progress bars off."""
    context = gx.get_context(mode="file", project_root_dir=str(paths.state_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def sync_suite(context, expectations: list) -> ExpectationSuite:
    """Save the generated suite; unchanged expectations keep their ids, so re-runs write nothing."""
    try:
        existing = context.suites.get(SUITE_NAME)
    except DataContextError:
        return context.suites.add(gx.ExpectationSuite(name=SUITE_NAME, expectations=expectations))
    if [expectation_key(e) for e in expectations] == \
            [expectation_key(e) for e in existing.expectations]:
        return existing
    old_ids = {json.dumps(expectation_key(e)): e.id for e in existing.expectations}
    suite = gx.ExpectationSuite(name=SUITE_NAME, expectations=expectations)
    for expectation in suite.expectations:
        expectation.id = old_ids.get(json.dumps(expectation_key(expectation)))
    return context.suites.add_or_update(suite)


def _validation_definition(context, suite, scope: str):
    try:
        source = context.data_sources.get("submissions")
    except KeyError:
        source = context.data_sources.add_pandas(name="submissions")
    try:
        asset = source.get_asset(scope)
    except LookupError:
        asset = source.add_dataframe_asset(name=scope)
    try:
        batch = asset.get_batch_definition("per_run")
    except KeyError:
        batch = asset.add_batch_definition_whole_dataframe("per_run")
    return context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=f"{SUITE_NAME}_{scope}", data=batch, suite=suite))


def run_quality(paths: ProjectPaths, registry: Registry,
                workers: int | None = None) -> QualityReport:
    """Validate the submissions whose values or suite changed, in ``workers`` processes
    (default: validation_workers())."""
    expectations = suite_expectations(registry)
    fingerprint = suite_fingerprint(expectations)
    context = open_context(paths)
    suite = sync_suite(context, expectations)
    report = QualityReport(fingerprint, len(expectations))
    began = datetime.now(UTC)
    with connect(paths) as con:
        _ensure_tables(con)
        found = {scope: _submissions(con, scope, fingerprint) for scope in SCOPES}
        report.validated = {scope: sum(held.stale for held in found[scope].values())
                            for scope in SCOPES}
        # A submission whose published values are all its values (nothing quarantined,
        # superseded or withdrawn: most of them) is the same frame in both scopes, and GX is
        # deterministic: validated once, its published results are its submission results.
        same = {scope: _same_frames(found, scope) if scope != "submission" else set()
                for scope in SCOPES}
        stale = {scope: [held.item for held in found[scope].values()
                         if held.stale and held.submission_id not in same[scope]]
                 for scope in SCOPES}
        built = {scope: {submission_id: held.built_from
                         for submission_id, held in found[scope].items()} for scope in SCOPES}
        definitions = {scope: _validation_definition(context, suite, scope) for scope in SCOPES}
        values = sum(count for items in stale.values() for _, _, count in items)
        workers = 1 if values < PARALLEL_FROM_VALUES else workers or validation_workers()
        # Pieces small enough that every worker has one, and no larger than CHUNK_ROWS.
        size = min(CHUNK_ROWS, max(MIN_PIECE_ROWS, -(-values // workers)))
        work = [(scope, piece) for scope in SCOPES for piece in _pieces(stale[scope], size)]
        pending: dict[str, dict[str, dict[str, dict]]] = {scope: {} for scope in SCOPES}
        with _Validations(definitions, workers) as validations:
            # Frames are read here (the one connection to the warehouse), a piece at a time:
            # memory follows the piece size and the workers, not the file.
            for scope, piece, rows in validations.run(
                    work, lambda scope, piece: _frame(con, SCOPES[scope], piece)):
                for row in rows:
                    _merge(pending[scope].setdefault(row["submission_id"], {}), row)
                done = [item for item in stale[scope] if item[0] in piece.completes]
                _write_results(con, scope, done, pending[scope], built[scope])
        for scope, holding in found.items():
            _copy_results(con, scope, [held.item for held in holding.values()
                                       if held.stale and held.submission_id in same[scope]],
                          built[scope])
            # Submissions no longer holding values in this scope drop their old results.
            for table in ("expectation_results", "validated_submissions"):
                con.execute(f"delete from quality.{table} where scope = ? and submission_id "
                            f"not in (select unnest(?::varchar[]))", [scope, list(holding)])
            failing = con.execute(
                "select submission_id, expectation_type, column_name, condition, "
                "unexpected_count, element_count, unexpected_examples from "
                "quality.expectation_results where scope = ? and not success "
                "order by submission_id, expectation_type", [scope]).df()
            report.failing[scope] = failing.to_dict(orient="records")
    # Data Docs pages for this run's validations only (each earlier one keeps its page):
    # rebuilding every stored validation's page made each run slower than the last.
    new = [key for key in context.validation_results_store.list_keys()
           if key.run_id.run_time and key.run_id.run_time >= began]
    if new:
        context.build_data_docs(resource_identifiers=new)
    report.data_docs = next((site["site_url"] for site in context.get_docs_sites_urls()), None)
    return report


def _ensure_tables(con) -> None:
    con.execute("create schema if not exists quality")
    # The table's columns are RESULT_SCHEMA's (the one description of a result row).
    con.register("result_schema", RESULT_SCHEMA.empty_table())
    con.execute("create table if not exists quality.expectation_results as "
                "select * from result_schema")
    con.unregister("result_schema")
    con.execute("""
        create table if not exists quality.validated_submissions (
            scope varchar, submission_id varchar, fingerprint varchar, validated_at varchar)""")
    # What the values were built from when last validated (a version without it: added empty,
    # so the next run compares values once).
    con.execute("alter table quality.validated_submissions "
                "add column if not exists built_from varchar")


@dataclass
class Held:
    """A submission holding values in a scope: what they were built from, how many, whether
    they changed since their last validation (``fingerprint``: of their values, read only for
    submissions built from other inputs since), and how many of them are also in the
    ``submission`` scope (a published scope's values that are all of the submission's are the
    same frame: validated once, see run_quality)."""

    submission_id: str
    built_from: str
    row_count: int
    shared: int
    fingerprint: str | None = None
    stale: bool = False

    @property
    def item(self) -> tuple[str, str, int]:
        return self.submission_id, self.fingerprint, self.row_count


# What a value's validation depends on: the columns GX is given (_FRAME).
_VALIDATED_COLUMNS = ["record_id", *KEY_COLUMNS, "dedupe_key", "duplicate_keys"]


def _submissions(con, scope: str, suite: str) -> dict[str, Held]:
    """The submissions holding values in ``scope``, by id, each stale if its values or the
    suite changed since its last validation.

    Which submissions may have changed is told by what the model built them from (its
    incremental fingerprint: the submission's records, mapping, registry and SQL for
    int_records_validated; its partner's for int_records_outcomes, where a later submission can
    supersede values): only their values are read and compared with the validated ones (a
    codes or registry change rebuilds submissions whose values mostly stay the same). Hashing
    every validated value each run read 8 M values at the benchmark's size M."""
    table, condition, column = _SCOPE_ROWS[scope]
    held = {row[0]: Held(*row[:4]) for row in con.execute(f"""
        select submission_id,
            ? || ':' || string_agg(distinct r.{column}::varchar, ','
                                   order by r.{column}::varchar) as built_from,
            count(*) as row_count,
            count(*) filter (where {_SCOPE_ROWS["submission"][1]}) as shared
        from {table} as r where {condition} group by submission_id
        order by submission_id""", [suite]).fetchall()}
    done = {submission_id: (fingerprint, built_from) for submission_id, fingerprint, built_from
            in con.execute("select submission_id, fingerprint, built_from from "
                           "quality.validated_submissions where scope = ?", [scope]).fetchall()}
    rebuilt = [submission_id for submission_id, item in held.items()
               if done.get(submission_id, (None, None))[1] != item.built_from]
    if not rebuilt:
        return held
    # One string per value: hash(a, b) combines linearly, swaps between values would cancel out.
    value_text = " || chr(31) || ".join(f"coalesce({c}::varchar, chr(0))"
                                        for c in _VALIDATED_COLUMNS)
    fingerprints = dict(con.execute(f"""
        select submission_id, ? || ':' || cast(bit_xor(hash({value_text})) as varchar)
        from ({SCOPES[scope]}) where submission_id in (select unnest(?::varchar[]))
        group by submission_id""", [suite, rebuilt]).fetchall())
    same = []
    for submission_id in rebuilt:
        item = held[submission_id]
        item.fingerprint = fingerprints.get(submission_id)
        item.stale = done.get(submission_id, (None, None))[0] != item.fingerprint
        if not item.stale:
            same.append(submission_id)
    if same:  # the same values, built from other inputs: their results stand
        con.execute("update quality.validated_submissions as done set built_from = now.built "
                    "from (select unnest(?::varchar[]) as id, unnest(?::varchar[]) as built) "
                    "as now where done.scope = ? and done.submission_id = now.id",
                    [same, [held[i].built_from for i in same], scope])
    return held


def _same_frames(found: dict[str, dict[str, Held]], scope: str) -> set[str]:
    """The submissions whose values in ``scope`` are all their values in the ``submission``
    scope, and only those (the same records: every published value is one of the submission's
    values, so equal counts are equal sets)."""
    own = found["submission"]
    return {submission_id for submission_id, held in found[scope].items()
            if submission_id in own
            and held.row_count == held.shared == own[submission_id].row_count}


def _copy_results(con, scope: str, items: list[tuple], built: dict[str, str]) -> None:
    """``scope``'s results of submissions whose frame in it is their ``submission`` frame: the
    submission scope's results (validated before, in this run or an earlier one)."""
    if not items:
        return
    ids = [submission_id for submission_id, _, _ in items]
    _forget(con, scope, ids)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    con.execute("insert into quality.expectation_results by name select * replace (? as scope, "
                "? as blocking, ? as validated_at) from quality.expectation_results "
                "where scope = 'submission' and submission_id in (select unnest(?::varchar[]))",
                [scope, scope in BLOCKING_SCOPES, now, ids])
    _record_validated(con, scope, items, built, now)


def _forget(con, scope: str, ids: list[str]) -> None:
    """Drop the stored results, and the record of validation, of these submissions."""
    for table in ("expectation_results", "validated_submissions"):
        con.execute(f"delete from quality.{table} where scope = ? and "
                    f"submission_id in (select unnest(?::varchar[]))", [scope, ids])


def _record_validated(con, scope: str, items: list[tuple], built: dict[str, str],
                      now: str) -> None:
    """What each submission's values were (and were built from) when validated."""
    # One statement for all (executemany is a round trip per submission: seconds at 2,880).
    con.execute("insert into quality.validated_submissions (scope, submission_id, fingerprint, "
                "validated_at, built_from) select ?, unnest(?::varchar[]), "
                "unnest(?::varchar[]), ?, unnest(?::varchar[])",
                [scope, [submission_id for submission_id, _, _ in items],
                 [fingerprint for _, fingerprint, _ in items], now,
                 [built[submission_id] for submission_id, _, _ in items]])


@dataclass
class Piece:
    """Values validated in one GX run: whole submissions, or a slice of one large submission
    (``parts``: submission id, slice, slices; slices 1 = all of it). ``completes``: the
    submissions whose last values are in this piece."""

    parts: list[tuple[str, int, int | None]]
    completes: set[str]


def validation_workers() -> int:
    """Processes validating at once: MURMURATION_GX_WORKERS, else the cores this process may
    use (at most 4: each holds a piece's frame and GX's copies of it)."""
    configured = os.environ.get(WORKERS_ENV, "").strip()
    if configured:
        return max(1, int(configured))
    return max(1, min(4, len(os.sched_getaffinity(0))))


# The validation definitions by scope, for the forked workers (set before they fork).
_DEFINITIONS: dict[str, object] = {}


def _validate_piece(scope: str, frame: pd.DataFrame, piece: Piece) -> list[dict]:
    ids = sorted({submission_id for submission_id, _, _ in piece.parts})
    return _validate(_DEFINITIONS[scope], frame, scope, ids)


class _Validations:
    """GX runs of pieces, here or in ``workers`` forked processes, results in the pieces'
    order. GX validates with pandas in one thread: two processes on two cores halve a full
    refresh's validation. Workers are forked once GX and the definitions are loaded (nothing to
    import again); they are given frames and never touch the warehouse, whose one connection
    stays in this process."""

    def __init__(self, definitions: dict, workers: int):
        self.definitions, self.workers, self.pool = definitions, workers, None

    def __enter__(self) -> _Validations:
        _DEFINITIONS.clear()
        _DEFINITIONS.update(self.definitions)
        if self.workers > 1:
            self.pool = ProcessPoolExecutor(self.workers,
                                            mp_context=multiprocessing.get_context("fork"))
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
        _DEFINITIONS.clear()

    def run(self, work: list[tuple[str, Piece]], read):
        if self.pool is None:
            for scope, piece in work:
                yield scope, piece, _validate_piece(scope, read(scope, piece), piece)
            return
        queue: deque = deque()
        for scope, piece in work:
            # One frame waiting beyond the one each worker validates: none idles.
            queue.append((scope, piece, self.pool.submit(
                _validate_piece, scope, read(scope, piece), piece)))
            if len(queue) > self.workers:
                scope_done, piece_done, future = queue.popleft()
                yield scope_done, piece_done, future.result()
        while queue:
            scope_done, piece_done, future = queue.popleft()
            yield scope_done, piece_done, future.result()


def _pieces(stale: list[tuple], size: int = CHUNK_ROWS):
    """Whole submissions up to ``size`` values a piece; a larger submission in slices of
    about ``size`` values (a national export of millions of values is validated a slice at a
    time, its results added up). A slice holds every value of the keys it holds (slices are
    by a hash of the key), so a key reported twice is caught whichever slice it falls in."""
    group, rows = [], 0
    for submission_id, _, count in stale:
        if count > size:
            slices = -(-count // size)
            for index in range(slices):
                yield Piece([(submission_id, index, slices)],
                            {submission_id} if index == slices - 1 else set())
            continue
        if group and rows + count > size:
            yield Piece(group, {part[0] for part in group})
            group, rows = [], 0
        group.append((submission_id, 0, 1))
        rows += count
    if group:
        yield Piece(group, {part[0] for part in group})


def _frame(con, source: str, piece: Piece) -> pd.DataFrame:
    whole = [submission_id for submission_id, _, slices in piece.parts if slices == 1]
    if whole:
        query = con.execute(f"select * from ({source}) where submission_id in "
                            f"(select unnest(?::varchar[])) order by record_id", [whole])
    else:
        [(submission_id, index, slices)] = piece.parts
        key = ", ".join(KEY_COLUMNS[:-1])
        query = con.execute(f"select * from ({source}) where submission_id = ? and "
                            f"hash({key}) % ? = ? order by record_id",
                            [submission_id, slices, index])
    # Through Arrow, and the repeated codes as categories: GX's row conditions, set and
    # uniqueness checks on a piece of 500,000 values run in about half the time.
    frame = query.to_arrow_table().to_pandas()
    for column in frame.columns:
        if column not in ("record_id", "value"):
            frame[column] = frame[column].astype("category")
    return frame


def _merge(results: dict[str, dict], row: dict) -> None:
    """Add one slice's result for an expectation to the submission's result so far."""
    known = results.get(row["expectation_id"])
    if known is None:
        results[row["expectation_id"]] = row
        return
    known["element_count"] += row["element_count"]
    known["unexpected_count"] += row["unexpected_count"]
    known["unexpected_examples"] = (known["unexpected_examples"]
                                    + row["unexpected_examples"])[:EXAMPLES]
    known["success"] = known["success"] and row["success"]


def _write_results(con, scope: str, done: list[tuple], pending: dict,
                   built: dict[str, str]) -> None:
    """Replace the stored results of the submissions validated to the end."""
    if not done:
        return
    ids = [submission_id for submission_id, _, _ in done]
    rows = [row for submission_id in ids for row in pending.pop(submission_id, {}).values()]
    _forget(con, scope, ids)
    if rows:
        rows_frame = pa.Table.from_pylist(rows, schema=RESULT_SCHEMA)
        con.register("rows_frame", rows_frame)
        con.execute("insert into quality.expectation_results by name select * from rows_frame")
        con.unregister("rows_frame")
    _record_validated(con, scope, done, built, datetime.now(UTC).isoformat(timespec="seconds"))


def _validate(definition, frame: pd.DataFrame, scope: str, ids: list[str]) -> list[dict]:
    """Each submission's result for each expectation, from as few GX runs as can tell them
    apart: one run whose summary also names the record of each unexpected value, up to
    ROWS_TO_LOCATE per expectation (needed to credit several submissions validated together).
    Naming rows costs GX a Python step per row, so no more are asked for: when an expectation
    failed on more rows than that (a file of a million duplicate keys), each submission of the
    piece is validated on its own, from its summary alone."""
    locate = len(ids) > 1 and ROWS_TO_LOCATE > 0
    result = definition.run(batch_parameters={"dataframe": frame}, result_format=(
        {"result_format": "SUMMARY", "partial_unexpected_count": ROWS_TO_LOCATE,
         "unexpected_index_column_names": ["record_id"]} if locate else
        {"result_format": "SUMMARY", "partial_unexpected_count": EXAMPLES}))
    if len(ids) == 1 or (locate and all(map(_all_located, result.results))):
        return _result_rows(result, frame, scope, ids)
    rows = []
    for submission_id in ids:  # too many to locate: one summary per submission
        own = frame[frame["submission_id"] == submission_id]
        rows += _validate(definition, own, scope, [submission_id])
    return rows


def _all_located(outcome) -> bool:
    """Whether a run's outcome names the record of each of its unexpected values."""
    if outcome.success:
        return True
    unexpected = outcome.result.get("unexpected_count")
    named = outcome.result.get("partial_unexpected_index_list")
    return unexpected is not None and named is not None and len(named) == unexpected


def _result_rows(result, frame: pd.DataFrame, scope: str, ids: list[str]) -> list[dict]:
    """Split one validation into per-submission results: by the rows GX located (several
    submissions), or from its summary (one)."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    submission_of = frame.set_index("record_id")["submission_id"]
    cache: dict[str | None, pd.Series] = {}
    rows = []
    for outcome in result.results:
        config = outcome.expectation_config
        kwargs = dict(config.kwargs)
        condition = kwargs.pop("row_condition", None)
        kwargs.pop("condition_parser", None)
        column = kwargs.get("column")
        condition = _equality(condition)
        counts = _counts(frame, condition, cache)
        unexpected: dict[str, list] = {sid: [] for sid in ids}
        misses_of: dict[str, int] = {}
        if len(ids) > 1:
            for item in outcome.result.get("partial_unexpected_index_list") or []:
                unexpected[submission_of[item["record_id"]]].append(_shown(item.get(column)))
        else:
            misses_of[ids[0]] = outcome.result.get("unexpected_count") or 0
            values = outcome.result.get("partial_unexpected_list") or []
            unexpected[ids[0]] = [_shown(v if column else None) for v in values]
        failed_to_run = bool(outcome.exception_info.get("raised_exception"))
        for sid in ids:
            misses = unexpected[sid]
            count = misses_of.get(sid, len(misses))
            rows.append({
                "scope": scope, "submission_id": sid, "suite_name": SUITE_NAME,
                "expectation_id": config.id, "expectation_type": config.type,
                "column_name": column,
                "condition": f"{condition[0]} == {condition[1]}" if condition else None,
                "kwargs": json.dumps({k: v for k, v in kwargs.items() if k != "column"},
                                     default=str, sort_keys=True),
                "success": not count and not failed_to_run,
                "element_count": int(counts.get(sid, 0)),
                "unexpected_count": count,
                "unexpected_examples": misses[:EXAMPLES],
                "blocking": scope in BLOCKING_SCOPES,
                "validated_at": now,
            })
    return rows


def _counts(frame: pd.DataFrame, condition: tuple[str, str] | None,
            cache: dict[str | None, pd.Series]) -> pd.Series:
    """Values per submission an expectation applied to (those meeting its row condition),
    grouped once per condition column."""
    column = condition[0] if condition else None
    if column not in cache:
        keys = ["submission_id"] if column is None else [column, "submission_id"]
        cache[column] = frame.groupby(keys, observed=True).size()
    counts = cache[column]
    if condition is not None:
        counts = counts.xs(condition[1], level=0) if condition[1] in \
            counts.index.get_level_values(0) else counts.iloc[:0]
    return counts


def _shown(value) -> str:
    """An unexpected value as the results store it (a missing one as 'empty')."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "empty"
    return str(getattr(value, "item", lambda v=value: v)())


def _equality(condition) -> tuple[str, str] | None:
    """(column, value) of a ``Column(x) == value`` row condition, in object or stored form."""
    if condition is None:
        return None
    if isinstance(condition, dict):
        return condition["column"]["name"], condition["parameter"]
    return condition.column.name, condition.parameter
