"""The Dagster code location: what it defines, and that the job really ran end to end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from app.summary import EXIT_NOT_READ
from murmuration.environment import OFFLINE, initiative_environment
from murmuration.paths import ProjectPaths
from tests.conftest import SAMPLE

# Every asset with its group and parents, as the code location defines them: a change to the
# graph is seen here, reviewed, and the snapshot rewritten (MURMURATION_UPDATE_SNAPSHOTS=1).
SNAPSHOT = Path(__file__).with_name("asset_graph.json")


def asset_graph(defs) -> dict[str, dict]:
    graph = defs.resolve_asset_graph()
    return {key.to_user_string(): {
        "group": graph.get(key).group_name,
        "parents": sorted(parent.to_user_string() for parent in graph.get(key).parent_keys)}
        for key in sorted(defs.resolve_all_asset_keys(), key=lambda k: k.to_user_string())}


@pytest.fixture(scope="module")
def defs(dbt_manifest):
    from orchestration.definitions import defs

    return defs


def test_asset_graph_snapshot(defs):
    current = asset_graph(defs)
    if os.environ.get("MURMURATION_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(current, indent=1) + "\n")
    assert current == json.loads(SNAPSHOT.read_text()), (
        "the asset graph changed: review it, then MURMURATION_UPDATE_SNAPSHOTS=1 rewrites "
        f"{SNAPSHOT.name}")
    graph = defs.resolve_asset_graph()
    groups = {graph.get(dg.AssetKey(["marts", "milestone_status"])).group_name,
              graph.get(dg.AssetKey(["staging", "stg_landing__records"])).group_name}
    assert groups == {"marts", "staging"}
    parents = graph.get(dg.AssetKey(["staging", "stg_landing__records"])).parent_keys
    # Its own landed table, and the submissions whose build changed (incremental models).
    assert parents == {dg.AssetKey(["landing", "records"]),
                       dg.AssetKey(["staging", "stg_landing__submissions"])}


def test_dbt_tests_and_gx_are_asset_checks(defs):
    graph = defs.resolve_asset_graph()
    checks = {(k.asset_key.to_user_string(), k.name): graph.get_check_spec(k).blocking
              for k in graph.asset_check_keys}
    assert checks[("marts/indicator_values",
                   "unique_combination_indicator_values_indicator_code__partner_code__"
                   "reporting_unit__period__place_code__disaggregation")] is True
    assert checks[("submission_expectations", "published_values_meet_definitions")] is True
    assert checks[("submission_expectations", "submissions_meet_definitions")] is False


def test_job_and_schedule(defs):
    job = defs.resolve_job_def("murmuration_pipeline")
    assert job.executor_def.name == "one_writer_in_process"  # in process, under the run lock
    schedule = defs.resolve_schedule_def("full_refresh")
    assert schedule.cron_schedule == "0 6 * * 1"


def test_cli_run_materialised_every_asset_and_recorded_the_run(sample_run, monkeypatch):
    every_asset = set(json.loads(SNAPSHOT.read_text()))
    # the sample plants two files that cannot be read: published, exit code 3
    assert sample_run.returncode == EXIT_NOT_READ, sample_run.stdout + sample_run.stderr
    out = sample_run.stdout
    assert SAMPLE.rows_line() in out
    # The early month is named as left out of the status, not silently dropped.
    assert "Children enrolled: 2026-11 (not yet due: 1 of 3 partners)" in out
    assert SAMPLE.files_line() in out
    assert "Families in temporary housing (whole area): off track" in out
    assert "ok harmonised_models" in out and "ok serving_snapshot" in out

    paths = sample_run.paths
    for name, value in initiative_environment(paths).items():
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.from_config(str(paths.dagster_home)) as instance:
        [run] = instance.get_runs()
        assert run.job_name == "murmuration_pipeline"
        assert run.status == dg.DagsterRunStatus.SUCCESS
        materialised = {key.to_user_string() for key in
                        instance.get_asset_keys() if instance.get_latest_materialization_event(key)}
    assert materialised == every_asset

    con = duckdb.connect(str(paths.serving), read_only=True)
    published = {row[0] for row in con.execute(
        "select table_schema || '.' || table_name from information_schema.tables").fetchall()}
    con.close()
    models = {key.replace("/", ".") for key in every_asset
              if key.startswith(("marts/", "quality/"))}
    assert models <= published
    assert "quality.expectation_results" in published


def test_invalid_definitions_stop_the_run_with_exit_code_2(tmp_path):
    from murmuration.paths import SAMPLE_PROJECT_DIR
    from tests.conftest import copy_initiative

    paths = copy_initiative(SAMPLE_PROJECT_DIR, tmp_path / "broken")
    indicators = paths.registry_dir / "indicators.yaml"
    indicators.write_text(indicators.read_text().replace("aggregation: latest",
                                                         "aggregation: newest"))
    completed = subprocess.run([sys.executable, "-m", "app.cli", "run", "--project",
                                str(paths.project_dir)], capture_output=True, text=True,
                               env={**os.environ, **OFFLINE}, timeout=120)
    assert completed.returncode == 2
    assert "indicators.yaml, line" in completed.stderr and "aggregation" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_a_failing_blocking_check_keeps_the_previous_snapshot(sample_run, tmp_path):
    """Plant a published value that breaks its definition: the GX check blocks publishing."""
    from orchestration.defs.publish.assets import serving_snapshot
    from orchestration.defs.quality.assets import submission_expectations
    from orchestration.lib.resources import InitiativeResource

    source = sample_run.paths
    copy = tmp_path / "copy"
    shutil.copytree(source.project_dir, copy, symlinks=True)
    paths = ProjectPaths.for_project(copy)
    before = paths.serving.read_bytes()
    con = duckdb.connect(str(paths.warehouse))
    # As a rebuild of the partner would write it: the value, and what its rows were built from
    # (Great Expectations looks again at what dbt built from other inputs).
    [(record_id, partner_key)] = con.execute(
        "select min(record_id), min_by(partner_key, record_id) from "
        "intermediate.int_records_outcomes where indicator_code = 'children_enrolled' and "
        "outcome = 'current'").fetchall()
    con.execute("update intermediate.int_records_outcomes set value = 5000 where record_id = ?",
                [record_id])
    con.execute("update intermediate.int_records_outcomes set partner_inputs = "
                "partner_inputs + 1 where partner_key = ?", [partner_key])
    con.close()
    result = dg.materialize(
        [submission_expectations, serving_snapshot],
        resources={"initiative": InitiativeResource(project_dir=str(copy))},
        raise_on_error=False)
    [evaluation] = [e for e in result.get_asset_check_evaluations()
                    if e.check_name == "published_values_meet_definitions"]
    assert not evaluation.passed
    assert evaluation.metadata["unexpected_values"].value == 1
    assert not result.success
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "serving_snapshot" not in materialised
    assert paths.serving.read_bytes() == before


def test_inbox_sensor_runs_only_the_folder_with_a_new_file(sample_run, tmp_path):
    from orchestration.defs.intake.sensors import inbox_sensor
    from orchestration.lib.resources import InitiativeResource

    resource = InitiativeResource(project_dir=str(sample_run.paths.project_dir))
    with dg.DagsterInstance.ephemeral() as instance:
        first = inbox_sensor(dg.build_sensor_context(instance=instance,
                                                     resources={"initiative": resource}))
        assert first.run_requests == [] and first.skip_reason  # everything is landed already
        new_file = sample_run.paths.inbox_dir / "housing_trust" / "housing_trust_2026-11.csv"
        new_file.write_text("Date,Area,Families\n30/11/2026,Northgate,70\n")
        try:
            second = inbox_sensor(dg.build_sensor_context(
                instance=instance, cursor=first.cursor, resources={"initiative": resource}))
        finally:
            new_file.unlink()
    [request] = second.run_requests
    assert request.partition_key == "housing_trust"
    assert request.run_key.startswith("housing_trust:")
    [add] = second.dynamic_partitions_requests
    assert add.partition_keys == ["housing_trust"]


def test_a_dbt_process_the_step_stopped_reading_is_ended_and_frees_the_warehouse(tmp_path):
    """When reading dbt's events failed (a test the loaded manifest did not know: the project
    was edited during a run), dagster-dbt left dbt running and holding the warehouse; the run's
    summary then failed with a traceback: 'Could not set lock on file'."""
    from orchestration.defs.dbt.assets import stop

    warehouse = tmp_path / "warehouse.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
        "con.execute('create table t as select 1 as x'); print('ready', flush=True); "
        "time.sleep(120)"), str(warehouse)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "ready"
    with pytest.raises(duckdb.IOException, match="lock"):
        duckdb.connect(str(warehouse), read_only=True)
    stop(holder, grace_seconds=10)
    assert holder.returncode is not None
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("select x from t").fetchall() == [(1,)]
    con.close()


def test_dagster_opens_without_a_sign_up_modal_or_telemetry(tmp_path, monkeypatch):
    """Found: the Dagster UI opened under "Join the Dagster community" asking for an e-mail
    address, on a machine with no internet. The instance murmuration writes has it off."""
    from dagster._core.instance import DagsterInstance

    from murmuration.environment import prepare_environment

    monkeypatch.setattr(os, "environ", dict(os.environ))  # prepare_environment exports
    paths = ProjectPaths.for_project(tmp_path)
    prepare_environment(paths)
    instance = DagsterInstance.from_config(str(paths.dagster_home))
    try:
        assert instance.nux_enabled is False
        assert instance.telemetry_enabled is False
    finally:
        instance.dispose()
