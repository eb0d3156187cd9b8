"""The single Dagster entry point: ``dagster dev -m orchestration.definitions -a defs``."""

import dagster as dg

from orchestration.defs import jobs
from orchestration.defs.dbt import assets as dbt
from orchestration.defs.dbt.project import dbt_resource
from orchestration.defs.intake import assets as intake
from orchestration.defs.intake import sensors
from orchestration.defs.publish import assets as publish
from orchestration.defs.quality import assets as quality
from orchestration.lib.executor import one_writer_executor
from orchestration.lib.progress import progress_logger
from orchestration.lib.resources import initiative_resource

defs = dg.Definitions.merge(
    intake.defs,
    sensors.defs,
    dbt.defs,
    quality.defs,
    publish.defs,
    jobs.defs,
    # Runs of assets picked in the UI (no named job) hold the run lock too.
    dg.Definitions(resources={"initiative": initiative_resource(), "dbt": dbt_resource()},
                   loggers={"progress": progress_logger}, executor=one_writer_executor),
)
