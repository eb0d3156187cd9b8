"""The dbt project (staging -> intermediate -> marts) as Dagster assets; dbt tests as checks."""

import importlib
import os
import subprocess
import threading

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.dbt.project import dbt_project
from orchestration.lib.resources import InitiativeResource
from orchestration.lib.translator import MurmurationTranslator

# dbt's unit tests check the models' logic on fixed inputs: they belong to the test suite
# (tests/dbt/test_what_counts.py), not to every run on partners' data, where they cost seconds.
PRODUCTION_BUILD = ["build", "--exclude-resource-type", "unit_test"]


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project,
            dagster_dbt_translator=MurmurationTranslator())
def harmonised_models(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                      initiative: InitiativeResource):
    paths = initiative.paths
    os.environ["MURMURATION_WAREHOUSE"] = str(paths.warehouse)  # read by profiles.yml
    # One target folder per initiative, not per run: dbt keeps its parsed project there
    # (partial_parse.msgpack) and the next run re-parses only what changed, which saves a
    # full parse (several seconds) on every run. The run lock keeps runs from sharing it.
    target = paths.state_dir / "dbt" / "target"
    # Great Expectations takes seconds to import: import it (for submission_expectations, next)
    # while dbt works in its own process, not after.
    threading.Thread(target=importlib.import_module, args=("expectations.validate",),
                     name="import-checks", daemon=True).start()
    invocation = dbt.cli(PRODUCTION_BUILD, context=context, target_path=target)
    try:
        yield from invocation.stream()
    finally:
        stop(invocation.process)


def stop(process: subprocess.Popen, grace_seconds: float = 30) -> None:
    """End dbt if the step ends before it does: when reading its events fails (a test the
    loaded manifest does not know, the project edited during a run), dagster-dbt leaves dbt
    running, holding the warehouse, and the run's summary could not open it."""
    if process.poll() is not None:
        return
    process.terminate()  # DuckDB rolls back the model being built
    try:
        process.wait(grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


defs = dg.Definitions(assets=[harmonised_models])
