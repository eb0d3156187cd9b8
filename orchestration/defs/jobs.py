"""The pipeline as jobs, and when they run."""

import datetime as dt

import dagster as dg

from murmuration.paths import SCHEDULE_ENV
from orchestration.defs.intake.assets import inbox_folders
from orchestration.lib.executor import one_writer_executor
from orchestration.lib.resources import InitiativeResource

PIPELINE_JOB = "murmuration_pipeline"
HARMONISE_JOB = "harmonise_and_publish"
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"

pipeline_job = dg.define_asset_job(
    PIPELINE_JOB,
    selection=dg.AssetSelection.all(),
    description="Land new partner files (one inbox folder, or all of them) -> harmonise (dbt "
                "build) -> quality checks -> publish.",
    executor_def=one_writer_executor,  # holds the initiative's run lock
)

harmonise_job = dg.define_asset_job(
    HARMONISE_JOB,
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.assets("received_submissions", "submission_records"),
    description="Rebuild from what is already landed (after a registry or mapping change).",
    executor_def=one_writer_executor,  # holds the initiative's run lock
)


def all_folders_tags(folders: list[str]) -> dict[str, str]:
    """Run tags that make one run cover every inbox folder."""
    return {RANGE_START: folders[0], RANGE_END: folders[-1]}


@dg.schedule(job=pipeline_job, cron_schedule=dg.EnvVar(SCHEDULE_ENV).get_value(
    default="0 6 * * 1"), default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Full refresh of every inbox folder: weekly on Monday 06:00 by default; "
                "initiative.yaml refresh_every_weeks: 2 makes it every other week.")
def full_refresh(context: dg.ScheduleEvaluationContext, initiative: InitiativeResource):
    every = initiative.registry().initiative.refresh_every_weeks
    moment = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
    if moment.isocalendar().week % every:
        return dg.SkipReason(f"refresh runs every {every} weeks; not this week")
    folders = context.instance.get_dynamic_partitions(inbox_folders.name)
    if not folders:
        return dg.SkipReason("the inbox has no folders yet")
    return dg.RunRequest(run_key=f"refresh:{moment.date().isoformat()}",
                         tags=all_folders_tags(folders))


defs = dg.Definitions(jobs=[pipeline_job, harmonise_job], schedules=[full_refresh])
