"""The one resource every asset uses to find the initiative's files."""

from __future__ import annotations

import dagster as dg

from murmuration.paths import PROJECT_ENV, SAMPLE_PROJECT_DIR, STATE_ENV, ProjectPaths
from murmuration.registry import Registry, load_registry


class InitiativeResource(dg.ConfigurableResource):
    """The initiative folder (registry, mappings, inbox) this code location serves."""

    project_dir: str
    state_dir: str | None = None

    @property
    def paths(self) -> ProjectPaths:
        return ProjectPaths.for_project(self.project_dir, self.state_dir or None)

    def registry(self) -> Registry:
        return load_registry(self.paths)


def initiative_resource() -> InitiativeResource:
    """Configured from MURMURATION_PROJECT_DIR (the bundled sample when it is not set) and
    MURMURATION_STATE_DIR (default: the initiative's .murmuration folder)."""
    return InitiativeResource(
        project_dir=dg.EnvVar(PROJECT_ENV).get_value(default=str(SAMPLE_PROJECT_DIR)),
        state_dir=dg.EnvVar(STATE_ENV).get_value(default=None))
