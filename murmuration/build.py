"""Building an initiative's warehouse outside Dagster, with the pipeline's own steps.

The Dagster assets (orchestration/defs) run these steps one asset each; ``murmuration mapping
check``, the real-data tests and the incremental tests run them here, in one sequence:

1. ``land_inbox``: every file of the inbox kept as received (murmuration.intake.landing);
2. ``prepare_warehouse``: every landed submission mapped with its mapping as it stands (new
   files, and files whose mapping changed since they were mapped), then the sources dbt reads
   written (murmuration.warehouse.prepare_sources);
3. dbt: the models (and their tests) on the initiative's warehouse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from murmuration.environment import ensure_dbt_manifest, run_dbt
from murmuration.intake.extract import Extraction, extract_pending
from murmuration.intake.landing import Submission, land_inbox, load_submissions
from murmuration.paths import ProjectPaths
from murmuration.registry import Registry, load_registry
from murmuration.warehouse import prepare_sources


class BuildFailed(RuntimeError):
    """dbt failed: the message ends with what dbt printed."""


@dataclass
class Prepared:
    mapped: list[Extraction]  # the submissions mapped by this step (new, or mapping changed)
    counts: dict[str, int]  # rows of each source table written for dbt


def prepare_warehouse(paths: ProjectPaths, registry: Registry,
                      submissions: list[Submission] | None = None,
                      judged_at: datetime | None = None) -> Prepared:
    """Map what is not yet mapped with today's mappings, then write dbt's sources for
    ``submissions`` (default: every landed submission of the initiative)."""
    if submissions is None:
        submissions = load_submissions(paths)
    mapped = extract_pending(paths, registry, submissions)
    counts = prepare_sources(paths, registry, submissions, judged_at)
    return Prepared(mapped, counts)


def harmonise(paths: ProjectPaths, registry: Registry, submissions: list[Submission] | None,
              dbt_arguments: Sequence[str] = ("build",),
              judged_at: datetime | None = None) -> Prepared:
    """Steps 2 and 3 for landed submissions; raises BuildFailed when dbt fails."""
    prepared = prepare_warehouse(paths, registry, submissions, judged_at)
    ensure_dbt_manifest()
    completed = run_dbt(paths, list(dbt_arguments))
    if completed.returncode != 0:
        raise BuildFailed("dbt failed:\n" + completed.stdout[-4000:])
    return prepared


def build_initiative(paths: ProjectPaths, judged_at: datetime | None = None,
                     dbt_arguments: Sequence[str] = ("build",)) -> Prepared:
    """All three steps on the initiative's inbox, due dates judged at ``judged_at``."""
    registry = load_registry(paths)
    land_inbox(paths, registry)
    return harmonise(paths, registry, None, dbt_arguments, judged_at)
