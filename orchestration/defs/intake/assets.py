"""Intake: land every new inbox file, apply its partner's mapping, expose both to dbt."""

import dagster as dg

from murmuration.intake.extract import extract_pending
from murmuration.intake.landing import land_inbox, load_submissions
from murmuration.warehouse import prepare_sources
from orchestration.defs.dbt.project import dbt_project
from orchestration.lib.resources import InitiativeResource
from orchestration.lib.translator import source_asset_keys


@dg.asset(group_name="intake", description="Every inbox file kept byte for byte (by content "
          "hash) and its cells landed as text; the same file twice changes nothing.")
def received_submissions(context: dg.AssetExecutionContext,
                         initiative: InitiativeResource) -> dg.MaterializeResult:
    registry = initiative.registry()
    report = land_inbox(initiative.paths, registry)
    for submission in report.new:
        if submission.status == "landed":
            context.log.debug(f"{submission.location}: {submission.rows_read} rows")
        else:
            context.log.warning(f"{submission.location}: {submission.status} - "
                                f"{submission.message}")
    context.log.info(f"{len(report.new)} new files landed ({report.rows_landed} rows), "
                     f"{report.unchanged} unchanged")
    return dg.MaterializeResult(metadata={
        "new_files": len(report.new),
        "unchanged_files": report.unchanged,
        "rows_landed": report.rows_landed,
        "unreadable": dg.MetadataValue.json(
            {s.location: s.message for s in report.new if s.status == "unreadable"}),
    })


@dg.asset(group_name="intake", deps=[received_submissions],
          description="Each submission's mapping applied: one record per reported value, in "
                      "the partner's own words, ready for harmonisation.")
def submission_records(context: dg.AssetExecutionContext,
                       initiative: InitiativeResource) -> dg.MaterializeResult:
    registry = initiative.registry()
    submissions = load_submissions(initiative.paths)
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
    registry = initiative.registry()
    counts = prepare_sources(initiative.paths, registry, load_submissions(initiative.paths))
    context.log.info(f"warehouse sources ready: {counts['landing.submissions']} submissions, "
                     f"{counts['landing.records']} records")
    for key in SOURCE_KEYS:
        name = ".".join(key.path)
        yield dg.MaterializeResult(asset_key=key, metadata={"rows": counts.get(name, 0)})


defs = dg.Definitions(assets=[received_submissions, submission_records, warehouse_sources])
