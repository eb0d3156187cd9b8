"""Benchmark: the whole pipeline on a large generated inbox, with figures for each step and the
share of the run spent on checks (target: under a quarter).

    .venv/bin/python -m murmuration.benchmark                  # ~0.5 million values
    .venv/bin/python -m murmuration.benchmark --places 250     # ~1 million values

Checks are the Great Expectations step, the dbt tests and the dbt quality models (outliers,
consistency, relations, completeness, scorecards). dbt runs its nodes on two threads, so its
wall time is attributed to checks in proportion to the nodes' own execution times.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from murmuration.paths import AS_OF_ENV, ProjectPaths

SEED = 7
QUALITY_MODELS = {"value_flags", "relation_flags", "partner_period_reports",
                  "submission_scorecard", "partner_scorecard"}


def write_initiative(root: Path, partners: int, months: int, places: int) -> ProjectPaths:
    """A synthetic initiative: two indicators by place and sex, one CSV per partner and month."""
    rng = random.Random(SEED)
    (root / "registry").mkdir(parents=True)
    (root / "mappings").mkdir()
    dump = lambda path, data: path.write_text(yaml.safe_dump(data, sort_keys=False))  # noqa: E731
    dump(root / "initiative.yaml", {"name": "Benchmark initiative", "period_type": "month",
                                    "reporting_start": "2023-01"})
    dump(root / "registry" / "dimensions.yaml", {
        "places": [{"code": f"p{n:04d}", "name": f"Place {n}"} for n in range(places)],
        "disaggregations": [{"code": "sex", "name": "Sex", "categories": [
            {"code": "f", "name": "Female"}, {"code": "m", "name": "Male"}]}]})
    dump(root / "registry" / "indicators.yaml", {
        "working_groups": [{"code": "main", "name": "Main"}],
        "units": [{"code": "people", "name": "people"}],
        "indicators": [
            {"code": code, "name": name, "definition": name, "unit": "people",
             "aggregation": "sum", "direction": "higher_is_better", "working_group": "main",
             "disaggregations": ["place", "sex"], "valid_range": {"min": 0, "max": 10000}}
            for code, name in (("people_reached", "People reached"),
                               ("people_referred", "People referred"))],
        "relations": [{"kind": "at_least", "a": "people_reached", "b": "people_referred"}]})
    dump(root / "registry" / "partners.yaml", {"partners": [
        {"code": f"partner_{n:03d}", "name": f"Partner {n}", "due_days": 15}
        for n in range(partners)]})
    dump(root / "registry" / "targets.yaml", {"targets": [
        {"indicator": "people_reached", "baseline": {"period": "2023-01", "value": 1000},
         "target": {"period": "2025-12", "value": 2000}}]})
    dump(root / "mappings" / "template.yaml", {
        "name": "shared_template", "applies_to": {
            "folders": [f"partner_{n:03d}" for n in range(partners)], "files": ["*.csv"]},
        "columns": {"period": "Month", "place": "Place", "indicator": "Indicator",
                    "value": "Value", "disaggregations": {"sex": "Sex"}}})
    start = datetime(2023, 1, 1, tzinfo=UTC)
    for partner in range(partners):
        level = rng.uniform(20, 200)
        folder = root / "inbox" / f"partner_{partner:03d}"
        folder.mkdir(parents=True)
        for month in range(months):
            year, number = 2023 + month // 12, month % 12 + 1
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(["Month", "Place", "Indicator", "Sex", "Value"])
            for place in range(places):
                for sex in ("F", "M"):
                    reached = max(0, round(rng.gauss(level * (1 + month / 48), level / 10)))
                    if rng.random() < 0.002:
                        reached *= 10  # a lost decimal point
                    writer.writerow([f"{year}-{number:02d}", f"Place {place}", "People reached",
                                     sex, reached if rng.random() > 0.005 else "n/a"])
                    writer.writerow([f"{year}-{number:02d}", f"Place {place}",
                                     "People referred", sex, round(reached * 0.3)])
            path = folder / f"report_{year}-{number:02d}.csv"
            path.write_text(buffer.getvalue())
            month_end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
            arrived = (month_end + timedelta(days=rng.choice([5, 9, 12, 14, 20]))).timestamp()
            os.utime(path, (arrived, arrived))
    del start
    return ProjectPaths.for_project(root)


def step_durations(run_id: str) -> dict[str, float]:
    import dagster as dg

    started: dict[str, float] = {}
    durations: dict[str, float] = {}
    with dg.DagsterInstance.get() as instance:
        for entry in instance.all_logs(run_id):
            event = entry.dagster_event
            if event is None or not entry.step_key:
                continue
            if event.event_type_value == "STEP_START":
                started[entry.step_key] = entry.timestamp
            elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
                durations[entry.step_key] = entry.timestamp - started.get(entry.step_key,
                                                                          entry.timestamp)
    return durations


def dbt_check_share(paths: ProjectPaths, run_id: str) -> tuple[float, float]:
    """(seconds of dbt node time spent on checks, total dbt node time) from run_results.json."""
    results = paths.state_dir / "dbt" / run_id / "run_results.json"
    document = json.loads(results.read_text())
    checks = total = 0.0
    for result in document["results"]:
        seconds = result.get("execution_time") or 0.0
        total += seconds
        unique_id = result["unique_id"]
        if unique_id.startswith(("test.", "unit_test.")) or \
                unique_id.split(".")[-1] in QUALITY_MODELS:
            checks += seconds
    return checks, total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=40)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--places", type=int, default=125)
    parser.add_argument("--keep", help="write the initiative here and keep it")
    args = parser.parse_args(argv)

    from murmuration.environment import OFFLINE
    from murmuration.pipeline import run_pipeline

    os.environ.update(OFFLINE)
    os.environ.setdefault(AS_OF_ENV, "2025-02-01T00:00:00+00:00")
    scratch = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="murmuration-bench-"))
    began = time.perf_counter()
    paths = write_initiative(scratch / "initiative", args.partners, args.months, args.places)
    generated = time.perf_counter() - began
    values = args.partners * args.months * args.places * 4
    files = args.partners * args.months
    print(f"Generated {files} files, {values:,} values in {generated:.1f} s ({paths.project_dir})")

    began = time.perf_counter()
    result = run_pipeline(paths, progress=False)
    total = time.perf_counter() - began
    if not result.success:
        print(f"The run failed: {result.failed_steps} (log: {result.log_file})")
        return 1
    steps = step_durations(result.run_id)
    dbt_checks, dbt_nodes = dbt_check_share(paths, result.run_id)
    dbt_wall = steps.get("harmonised_models", 0.0)
    dbt_check_seconds = dbt_wall * (dbt_checks / dbt_nodes if dbt_nodes else 0)
    gx = steps.get("submission_expectations", 0.0)
    checks = gx + dbt_check_seconds

    print(f"\nWhole run: {total:.1f} s for {values:,} values "
          f"({values / total:,.0f} values/s), {files} files")
    print(f"{'step':<28}{'seconds':>9}{'share':>8}")
    for step, seconds in sorted(steps.items(), key=lambda item: -item[1]):
        print(f"{step:<28}{seconds:>9.1f}{seconds / total:>8.1%}")
    print(f"{'(Dagster start-up, other)':<28}{total - sum(steps.values()):>9.1f}"
          f"{(total - sum(steps.values())) / total:>8.1%}")
    print("\nChecks:")
    print(f"  Great Expectations (submission_expectations)  {gx:7.1f} s")
    print(f"  dbt tests and quality models ({dbt_checks / dbt_nodes:.0%} of dbt node time)"
          f"  {dbt_check_seconds:7.1f} s")
    print(f"  total {checks:.1f} s = {checks / total:.1%} of the run (target: under 25%)")
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"Peak memory: {self_peak:.0f} MiB (this process), {child_peak:.0f} MiB (largest "
          "child, dbt)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
