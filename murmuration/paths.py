"""The one place that decides where an initiative's files live.

An *initiative folder* holds what people edit (registry, mappings) and what partners send (inbox).
Everything the pipeline writes goes under its state folder, ``<initiative>/.murmuration`` unless
``MURMURATION_STATE_DIR`` says otherwise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PROJECT_DIR = REPO_ROOT / "data" / "sample"
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def dbt_project_files() -> list[Path]:
    """The dbt project's own files (SQL, YAML), in a stable order: what its manifest is parsed
    from and what the incremental models' sql_fingerprint hashes (not target/ or logs/)."""
    return sorted(p for p in DBT_PROJECT_DIR.rglob("*") if p.is_file()
                  and p.suffix in {".sql", ".yml", ".yaml"}
                  and not {"target", "logs"} & set(p.relative_to(DBT_PROJECT_DIR).parts))

PROJECT_ENV = "MURMURATION_PROJECT_DIR"
STATE_ENV = "MURMURATION_STATE_DIR"
SCHEDULE_ENV = "MURMURATION_SCHEDULE"
AS_OF_ENV = "MURMURATION_AS_OF"
DAGSTER_URL_ENV = "MURMURATION_DAGSTER_URL"  # where the dashboard links runs to (set by serve)
# Defaults for the ports (a shared server where 8050 and 3000 are already someone else's).
PORT_ENV = {"--dashboard-port": "MURMURATION_DASHBOARD_PORT",
            "--dagster-port": "MURMURATION_DAGSTER_PORT"}


def feedback_dir_beside(serving: Path) -> Path:
    """The feedback packs' folder of a serving file (the dashboard knows only that file)."""
    return serving.parent / "feedback"


@dataclass(frozen=True)
class ProjectPaths:
    """Every path of one initiative, derived from its folder."""

    project_dir: Path
    state_dir: Path

    @classmethod
    def for_project(cls, project_dir: str | os.PathLike,
                    state_dir: str | os.PathLike | None = None) -> ProjectPaths:
        project = Path(project_dir).expanduser().resolve()
        state = state_dir or project / ".murmuration"
        return cls(project_dir=project, state_dir=Path(state).expanduser().resolve())

    @classmethod
    def from_env(cls) -> ProjectPaths:
        """The initiative named by ``MURMURATION_PROJECT_DIR`` (else the bundled sample), its
        state where ``MURMURATION_STATE_DIR`` says (else inside it)."""
        return cls.for_project(os.environ.get(PROJECT_ENV) or SAMPLE_PROJECT_DIR,
                               os.environ.get(STATE_ENV) or None)

    # What people edit and partners send.
    @property
    def initiative_file(self) -> Path:
        return self.project_dir / "initiative.yaml"

    @property
    def registry_dir(self) -> Path:
        return self.project_dir / "registry"

    @property
    def mappings_dir(self) -> Path:
        return self.project_dir / "mappings"

    @property
    def inbox_dir(self) -> Path:
        return self.project_dir / "inbox"

    # What the pipeline writes.
    @property
    def received_dir(self) -> Path:
        """Every received file, byte for byte, under its content hash."""
        return self.state_dir / "received"

    @property
    def landed_dir(self) -> Path:
        """Per submission: raw cells as text (rows.parquet) and mapped records (records.parquet)."""
        return self.state_dir / "landed"

    @property
    def warehouse(self) -> Path:
        return self.state_dir / "warehouse.duckdb"

    @property
    def serving(self) -> Path:
        """The published snapshot the dashboard reads; replaced atomically after each good run."""
        return self.state_dir / "serving.duckdb"

    @property
    def feedback_dir(self) -> Path:
        """Each partner's feedback pack, a folder each, beside the serving file it was built from."""
        return feedback_dir_beside(self.serving)

    @property
    def learning_log(self) -> Path:
        """Dated notes on the indicators (SQLite, outside the warehouse: a run never locks it)."""
        return self.state_dir / "learning_log.sqlite"

    @property
    def dagster_home(self) -> Path:
        return self.state_dir / "dagster_home"

    @property
    def accepted_file(self) -> Path:
        """Replacements held for review that the backbone accepted (murmuration.review)."""
        return self.state_dir / "accepted.json"

    @property
    def run_lock(self) -> Path:
        """Held by the one run writing this initiative's state (murmuration/runlock.py)."""
        return self.state_dir / "run.lock"

    def submission_dir(self, submission_id: str) -> Path:
        return self.landed_dir / submission_id

    def ensure(self) -> None:
        for folder in (self.state_dir, self.received_dir, self.landed_dir, self.dagster_home):
            folder.mkdir(parents=True, exist_ok=True)
