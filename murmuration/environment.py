"""Every environment decision for running the pipeline on one initiative, in one place."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from murmuration.paths import (
    DBT_PROJECT_DIR,
    PROJECT_ENV,
    STATE_ENV,
    ProjectPaths,
    dbt_project_files,
)

DAGSTER_YAML = """\
# Written by murmuration: no telemetry and no "join the community" sign-up on first open (no
# network at run time), one run at a time (DuckDB allows one writing process per warehouse file).
telemetry:
  enabled: false
nux:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 1
"""

OFFLINE = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_VERSION_CHECK": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DAGSTER_DISABLE_TELEMETRY": "true",
}


def duckdb_limits(paths: ProjectPaths) -> dict[str, str]:
    """DuckDB's memory and threads for dbt, from the machine: half the memory (the pipeline's
    own process and the dashboard need the rest), every core; spilling to the state folder."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = 8 << 30
    return {
        "MURMURATION_DUCKDB_MEMORY": os.environ.get(
            "MURMURATION_DUCKDB_MEMORY", f"{max(1, memory // 2 >> 30)}GB"),
        "MURMURATION_DUCKDB_THREADS": os.environ.get(
            "MURMURATION_DUCKDB_THREADS", str(os.cpu_count() or 1)),
        "MURMURATION_DUCKDB_SPILL": str(paths.state_dir / "spill"),
    }


def initiative_environment(paths: ProjectPaths) -> dict[str, str]:
    """Variables that point Dagster, dbt and the dashboard at one initiative."""
    return {
        **OFFLINE,
        **duckdb_limits(paths),
        PROJECT_ENV: str(paths.project_dir),
        STATE_ENV: str(paths.state_dir),
        "DAGSTER_HOME": str(paths.dagster_home),
        "MURMURATION_WAREHOUSE": str(paths.warehouse),
        # dbt and Dagster run as subprocesses of this interpreter: find them beside it.
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    }


def prepare_environment(paths: ProjectPaths) -> dict[str, str]:
    """Create the state folder and Dagster's home, and export the initiative's variables."""
    paths.ensure()
    dagster_yaml = paths.dagster_home / "dagster.yaml"
    if not dagster_yaml.exists() or dagster_yaml.read_text() != DAGSTER_YAML:
        dagster_yaml.write_text(DAGSTER_YAML)
    variables = initiative_environment(paths)
    os.environ.update(variables)
    return variables


def manifest_path() -> Path:
    return DBT_PROJECT_DIR / "target" / "manifest.json"


def ensure_dbt_manifest() -> Path:
    """Run `dbt parse` when the manifest is missing or older than any file of the dbt project.

    The manifest is what Dagster reads to know the dbt assets; it does not depend on the
    initiative (sources live in the warehouse, not in paths).
    """
    manifest = manifest_path()
    newest = max((p.stat().st_mtime for p in dbt_project_files()), default=0)
    if manifest.exists() and manifest.stat().st_mtime >= newest:
        return manifest
    environment = {**os.environ, **OFFLINE}
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "parse", "--quiet", "--profiles-dir",
         str(DBT_PROJECT_DIR), "--project-dir", str(DBT_PROJECT_DIR)],
        cwd=DBT_PROJECT_DIR, env=environment, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError("dbt parse failed:\n" + (completed.stdout + completed.stderr)[-4000:])
    return manifest


def run_dbt(paths: ProjectPaths, arguments: list[str]) -> subprocess.CompletedProcess:
    """dbt outside Dagster (the mapping check), on the initiative's warehouse, offline."""
    environment = {**os.environ, **initiative_environment(paths),
                   "DBT_TARGET_PATH": str(paths.state_dir / "dbt" / "check"),
                   "DBT_LOG_PATH": str(paths.state_dir / "dbt" / "check")}
    return subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), *arguments, "--profiles-dir",
         str(DBT_PROJECT_DIR), "--project-dir", str(DBT_PROJECT_DIR)],
        cwd=DBT_PROJECT_DIR, env=environment, capture_output=True, text=True)
