"""How dbt nodes appear in Dagster: groups from the model folder, sources from intake."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings


class MurmurationTranslator(DagsterDbtTranslator):
    """dbt tests become asset checks; each model's group is its folder (staging, marts, ...)."""

    def __init__(self):
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return "intake"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "models"


def source_asset_keys(manifest_path: Path) -> list[dg.AssetKey]:
    """The asset key of every dbt source (registry.*, landing.*), as the translator names them."""
    manifest = json.loads(Path(manifest_path).read_text())
    translator = MurmurationTranslator()
    return sorted({translator.get_asset_key(source) for source in manifest["sources"].values()},
                  key=lambda key: key.to_user_string())
