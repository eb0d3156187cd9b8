"""The whole pipeline as one job, and when it runs."""

from __future__ import annotations

import dagster as dg

from murmuration.paths import SCHEDULE_ENV

PIPELINE_JOB = "murmuration_pipeline"

pipeline_job = dg.define_asset_job(
    PIPELINE_JOB,
    selection=dg.AssetSelection.all(),
    description="Land new partner files -> harmonise (dbt build) -> quality checks -> publish.",
    executor_def=dg.in_process_executor,
)

# Weekly full refresh on Mondays at 06:00; MURMURATION_SCHEDULE sets another cron (for example
# "0 6 1,15 * *" for twice a month).
full_refresh_schedule = dg.ScheduleDefinition(
    name="full_refresh",
    job=pipeline_job,
    cron_schedule=dg.EnvVar(SCHEDULE_ENV).get_value(default="0 6 * * 1"),
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(jobs=[pipeline_job], schedules=[full_refresh_schedule])
