"""The benchmark: Murmuration beside a hand-written DuckDB script doing the same work on the
same files, in one run, so the ratio means something on a shared, noisy machine.

    .venv/bin/python -m app.benchmark              # sizes S and M (make bench)
    .venv/bin/python -m app.benchmark --sizes L    # about 40 million values, by hand

For each size it generates the initiative (app/benchmark/generate.py), then times:

* ``floor``: app/benchmark/floor.sql via floor.py (land as text, map to codes,
  quarantine, latest file per slice, totals, outliers on trend residuals, consistency);
* ``full refresh``: ``murmuration run`` on an empty state;
* ``nothing new``: ``murmuration run`` again with nothing changed (answers without running);
* ``new file``: one partner's file for a month never sent, then ``murmuration run``;
* ``resubmission``: a corrected copy of one partner's month, then ``murmuration run``;
* ``mapping change``: a code added to the CSV mapping (its submissions are judged again), then
  ``murmuration run``.

It prints a table (seconds, ratio to the floor, values per second, peak memory of each process,
the share of the run spent on checks) and writes it as JSON (``--json``, default
benchmark-results.json), with each run's step timings.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

from app.benchmark.generate import SIZES, Size, write_initiative, write_partner
from app.benchmark.measure import Measurement, run
from app.summary import PUBLISHED
from murmuration.environment import OFFLINE
from murmuration.paths import AS_OF_ENV

AS_OF = "2025-03-01T00:00:00+00:00"
QUALITY_MODELS = {"value_flags", "relation_flags", "partner_period_reports",
                  "submission_scorecard", "partner_scorecard", "reporting_unit_reports"}


def murmuration_run(project: Path) -> Measurement:
    return run([sys.executable, "-m", "app.cli", "run", "--project", str(project)],
               env={**OFFLINE, AS_OF_ENV: AS_OF})


def step_seconds(stdout: str) -> dict[str, float]:
    """Each pipeline step's seconds, from the run's progress lines ("ok <step> (<s> s)")."""
    steps = {}
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("ok ") and line.endswith(" s)"):
            name, _, rest = line[3:].partition(" (")
            steps[name] = float(rest.rstrip(" s)"))
    return steps


def check_share(project: Path, stdout: str, seconds: float) -> float | None:
    """The share of the run spent on checks: Great Expectations plus the dbt tests and quality
    models (their share of dbt's node time applied to dbt's wall time)."""
    steps = step_seconds(stdout)
    results = sorted((project / ".murmuration" / "dbt").glob("*/run_results.json"),
                     key=lambda p: p.stat().st_mtime)
    if not results or "harmonised_models" not in steps:
        return None
    document = json.loads(results[-1].read_text())
    checks = total = 0.0
    for result in document["results"]:
        node_seconds = result.get("execution_time") or 0.0
        total += node_seconds
        unique_id = result["unique_id"]
        if unique_id.startswith(("test.", "unit_test.")) or \
                unique_id.split(".")[-1] in QUALITY_MODELS:
            checks += node_seconds
    dbt_checks = steps["harmonised_models"] * (checks / total if total else 0)
    return (steps.get("submission_expectations", 0.0) + dbt_checks) / seconds


def bench(size: Size, root: Path) -> list[dict]:
    project = root / f"initiative_{size.name}"
    began = time.perf_counter()
    write_initiative(project, size)
    print(f"[{size.name}] generated {size.files:,} files, {size.values:,} values in "
          f"{time.perf_counter() - began:.0f} s", flush=True)
    rows: list[dict] = []

    def record(scenario: str, measurement: Measurement, values: int, floor: float | None,
               with_checks: bool = True) -> None:
        # A murmuration run that published (0, or 3: some files could not be read) counts.
        if measurement.returncode not in ((0,) if scenario.startswith("floor") else PUBLISHED):
            print(measurement.stdout[-3000:])
            raise SystemExit(f"[{size.name}] {scenario} failed")
        row = {
            "size": size.name, "scenario": scenario, "seconds": round(measurement.seconds, 1),
            "ratio_to_floor": round(measurement.seconds / floor, 1) if floor else None,
            "values": values, "values_per_second": round(values / measurement.seconds),
            "peak_mib": {k: round(v) for k, v in sorted(measurement.peak_mib.items())
                         if v >= 20},
            "check_share": (round(share, 3) if with_checks and (share := check_share(
                project, measurement.stdout, measurement.seconds)) is not None else None),
            # Where the time went: each step's seconds (the rest is start-up and Dagster's).
            "steps": step_seconds(measurement.stdout),
        }
        rows.append(row)
        print(f"[{size.name}] {scenario}: {row['seconds']} s", flush=True)

    floor = run([sys.executable, "-m", "app.benchmark.floor", str(project),
                 str(root / f"floor_{size.name}.duckdb")])
    record("floor (DuckDB script)", floor, size.values, None, with_checks=False)
    full = murmuration_run(project)
    record("full refresh", full, size.values, floor.seconds)
    # The same again: nothing new, so nothing is run (murmuration/nothing_new.py).
    record("nothing new", murmuration_run(project), 0, floor.seconds, with_checks=False)

    new_month = range(size.months, size.months + 1)
    partner = 0
    grown = Size(size.name, size.partners, size.months + 1, size.places)
    write_partner(project / "inbox", grown, partner, months=new_month)
    record("one new file", murmuration_run(project), size.places * 4, floor.seconds)

    write_partner(project / "inbox", size, 1, months=range(size.months - 1, size.months),
                  changed=True)
    record("one resubmission", murmuration_run(project), size.places * 4, floor.seconds)

    mapping = project / "mappings" / "long_csv.yaml"
    document = yaml.safe_load(mapping.read_text())
    document["codes"] = {"indicator": {"Reached": "people_reached"}}
    mapping.write_text(yaml.safe_dump(document, sort_keys=False))
    csv_values = sum(1 for p in (project / "inbox").rglob("*.csv")) * size.places * 4
    record("one mapping change", murmuration_run(project), csv_values, floor.seconds)
    return rows


def table(rows: list[dict]) -> list[str]:
    lines = [f"{'size':<5}{'scenario':<24}{'seconds':>9}{'x floor':>9}{'values/s':>12}"
             f"{'checks':>8}  peak memory (MiB)"]
    for row in rows:
        ratio = f"{row['ratio_to_floor']}x" if row["ratio_to_floor"] else "-"
        share = f"{row['check_share']:.0%}" if row["check_share"] is not None else "-"
        memory = ", ".join(f"{name} {mib:,}" for name, mib in row["peak_mib"].items())
        lines.append(f"{row['size']:<5}{row['scenario']:<24}{row['seconds']:>9}{ratio:>9}"
                     f"{row['values_per_second']:>12,}{share:>8}  {memory}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["S", "M"], choices=list(SIZES))
    parser.add_argument("--json", default="benchmark-results.json")
    parser.add_argument("--keep", help="write the initiatives here and keep them")
    args = parser.parse_args(argv)
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="murmuration-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    rows = []
    try:
        for name in args.sizes:
            rows += bench(SIZES[name], root)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print()
    for line in table(rows):
        print(line)
    Path(args.json).write_text(json.dumps({
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": __import__("os").cpu_count()},
        "total_seconds": round(time.perf_counter() - began),
        "results": rows}, indent=2))
    print(f"\nWritten to {args.json} ({time.perf_counter() - began:.0f} s in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
