"""Intake: land every new inbox file, apply its partner's mapping, expose both to dbt.

Landing and mapping are partitioned by inbox folder (one per partner, plus shared folders for
consolidated files), so a new file runs only its own folder's intake; a full refresh runs every
folder in one run (single-run backfill policy).
"""

import warnings

import dagster as dg

from murmuration.build import prepare_warehouse
from murmuration.intake.extract import extract_pending
from murmuration.intake.landing import land_inbox, load_submissions
from orchestration.defs.dbt.project import dbt_project
from orchestration.lib.resources import InitiativeResource
from orchestration.lib.translator import source_asset_keys

inbox_folders = dg.DynamicPartitionsDefinition(name="inbox_folders")
# Single-run backfills are what a full refresh of every folder needs; Dagster marks them beta.
warnings.filterwarnings("ignore", category=dg.BetaWarning, message=".*backfill_policy.*")


LISTED_FILES = 20  # landed files named in the run's log


@dg.asset(group_name="intake", partitions_def=inbox_folders,
          backfill_policy=dg.BackfillPolicy.single_run(),
          description="Every inbox file kept byte for byte (by content hash) and its cells "
                      "landed as text; the same file twice changes nothing.")
def received_submissions(context: dg.AssetExecutionContext,
                         initiative: InitiativeResource) -> dg.MaterializeResult:
    registry = initiative.registry()
    folders = set(context.partition_keys)
    report = land_inbox(initiative.paths, registry, folders=folders)
    landed = [s for s in report.new if s.status == "landed"]
    if landed:
        # One line, not one per file: each log line is a Dagster event (a write to its event
        # log), seconds for thousands of files. Every file is in marts.submissions.
        shown = ", ".join(f"{s.location} ({s.rows_read} rows)" for s in landed[:LISTED_FILES])
        more = len(landed) - LISTED_FILES
        context.log.debug(f"landed {shown}" + (f" and {more} more" if more > 0 else ""))
    for submission in report.new:
        if submission.status != "landed":
            context.log.warning(f"{submission.location}: {submission.status} - "
                                f"{submission.message}")
    for location, reason in report.not_files:
        context.log.warning(f"{location}: ignored, never read - {reason}")
    for location in report.waiting:
        context.log.info(f"{location}: still being written, left for a later run (the inbox "
                         f"sensor starts one when it stops changing)")
    context.log.info(f"{len(report.new)} new files landed ({report.rows_landed} rows), "
                     f"{report.unchanged} unchanged, in {len(folders)} inbox folder(s)")
    return dg.MaterializeResult(metadata={
        "new_files": len(report.new),
        "unchanged_files": report.unchanged,
        "rows_landed": report.rows_landed,
        "still_being_written": dg.MetadataValue.json(report.waiting),
        "not_files": dg.MetadataValue.json(dict(report.not_files)),
        "unreadable": dg.MetadataValue.json(
            {s.location: s.message for s in report.new if s.status == "unreadable"}),
    })


@dg.asset(group_name="intake", deps=[received_submissions], partitions_def=inbox_folders,
          backfill_policy=dg.BackfillPolicy.single_run(),
          description="Each submission's mapping applied: one record per reported value, in "
                      "the partner's own words, ready for harmonisation.")
def submission_records(context: dg.AssetExecutionContext,
                       initiative: InitiativeResource) -> dg.MaterializeResult:
    registry = initiative.registry()
    folders = set(context.partition_keys)
    submissions = [s for s in load_submissions(initiative.paths) if s.folder in folders]
    extractions = extract_pending(initiative.paths, registry, submissions)
    for extraction in extractions:
        if extraction.problem:
            context.log.warning(f"submission {extraction.submission_id}: {extraction.problem}")
    context.log.info(f"{len(extractions)} submissions mapped "
                     f"({sum(e.records for e in extractions)} records)")
    return dg.MaterializeResult(metadata={
        "submissions_mapped": len(extractions),
        "records_written": sum(e.records for e in extractions),
        "mapping_problems": dg.MetadataValue.json(
            {e.submission_id: e.problem for e in extractions if e.problem}),
    })


SOURCE_KEYS = source_asset_keys(dbt_project.manifest_path)


@dg.multi_asset(
    specs=[dg.AssetSpec(key, group_name="intake", deps=[submission_records],
                        description="Written for dbt by murmuration.warehouse.prepare_sources.")
           for key in SOURCE_KEYS],
    description="The registry as tables and the landed records as views, in the warehouse "
                "schemas dbt reads as sources (registry.*, landing.*).")
def warehouse_sources(context: dg.AssetExecutionContext, initiative: InitiativeResource):
    # A mapping edited since a folder was last mapped: its submissions are mapped again here.
    prepared = prepare_warehouse(initiative.paths, initiative.registry())
    if prepared.mapped:
        context.log.info(f"{len(prepared.mapped)} submissions of folders not in this run mapped "
                         "again: their mapping changed since they were mapped")
    counts = prepared.counts
    context.log.info(f"warehouse sources ready: {counts['landing.submissions']} submissions, "
                     f"{counts['landing.records']} records")
    for key in SOURCE_KEYS:
        name = ".".join(key.path)
        yield dg.MaterializeResult(asset_key=key, metadata={"rows": counts.get(name, 0)})


defs = dg.Definitions(assets=[received_submissions, submission_records, warehouse_sources])
