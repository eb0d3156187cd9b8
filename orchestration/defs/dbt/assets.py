"""The dbt project (staging -> intermediate -> marts) as Dagster assets; dbt tests as checks."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.dbt.project import dbt_project
from orchestration.lib.resources import InitiativeResource
from orchestration.lib.translator import MurmurationTranslator


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project,
            dagster_dbt_translator=MurmurationTranslator())
def harmonised_models(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                      initiative: InitiativeResource):
    paths = initiative.paths
    os.environ["MURMURATION_WAREHOUSE"] = str(paths.warehouse)  # read by profiles.yml
    target = paths.state_dir / "dbt" / context.run_id
    yield from dbt.cli(["build"], context=context, target_path=target).stream()


defs = dg.Definitions(assets=[harmonised_models])
