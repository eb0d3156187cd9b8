"""The single Dagster entry point: ``dagster dev -m orchestration.definitions``."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.dbt.assets import defs as dbt_defs
from orchestration.defs.dbt.project import dbt_resource
from orchestration.defs.intake.assets import defs as intake_defs
from orchestration.defs.jobs import defs as job_defs
from orchestration.defs.publish.assets import defs as publish_defs
from orchestration.defs.quality.assets import defs as quality_defs
from orchestration.lib.progress import progress_logger
from orchestration.lib.resources import initiative_resource

defs = dg.Definitions.merge(
    intake_defs,
    dbt_defs,
    quality_defs,
    publish_defs,
    job_defs,
    dg.Definitions(resources={"initiative": initiative_resource(), "dbt": dbt_resource()},
                   loggers={"progress": progress_logger}),
)
