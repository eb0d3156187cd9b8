"""The one DbtProject (dbt_project/ beside this package) and the resource that runs dbt.

The manifest is built by `dbt parse` (the Makefile, the CLI and the test session run it) rather
than by DbtProject.prepare_if_dev, which would re-parse in every run worker.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from murmuration.paths import DBT_PROJECT_DIR

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


class OfflineDbtCliResource(DbtCliResource):
    """DbtCliResource without its `dbt --version` probe, which asks pypi.org for the latest
    release before every invocation: no network at run time; and without the in-process dbt
    adapter it builds before every invocation (importing dbt and loading the profile: seconds a
    run), which only serves fetching column metadata, which these assets do not ask for."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):  # noqa: ARG002 - dagster-dbt's signature
        return None


def dbt_resource() -> DbtCliResource:
    return OfflineDbtCliResource(project_dir=dbt_project, profiles_dir=os.fspath(DBT_PROJECT_DIR),
                                 dbt_executable=DBT_EXECUTABLE)
