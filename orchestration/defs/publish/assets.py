"""Publishing: the marts copied to the serving file the dashboard reads, swapped in atomically."""

import dagster as dg

from murmuration.digest import write_digest
from murmuration.feedback import PacksNotWritten, write_feedback_packs
from murmuration.review import emptied_by_rules
from murmuration.warehouse import PUBLISHED_SCHEMAS, publish
from orchestration.defs.dbt.assets import harmonised_models
from orchestration.defs.quality.assets import submission_expectations
from orchestration.lib.resources import InitiativeResource

# Every dbt model of the published schemas (the folders marts/ and quality/): what the
# snapshot copies is what it waits for.
PUBLISHED_MODELS = sorted((key for key in harmonised_models.keys
                           if key.path[0] in PUBLISHED_SCHEMAS),
                          key=lambda key: key.to_user_string())


@dg.asset(
    group_name="publish",
    deps=[submission_expectations, *PUBLISHED_MODELS],
    description="serving.duckdb: the marts and quality results, rebuilt under a temporary "
                "name (from a copy of the published file: in the keyed tables only the keys "
                "built again are replaced) and swapped in with os.replace, so readers never "
                "see a half-written state and never block the pipeline.",
)
def serving_snapshot(context: dg.AssetExecutionContext,
                     initiative: InitiativeResource) -> dg.MaterializeResult:
    # A rule or mapping change that leaves files accepted before with no accepted value stops
    # here: the published snapshot stays as it was until the mapping is fixed or the files
    # accepted (murmuration.review).
    emptied = emptied_by_rules(initiative.paths)
    if emptied:
        raise dg.Failure(
            description=f"{len(emptied)} file(s) accepted before now have no accepted value; "
                        "nothing was published:\n" + "\n".join(
                            f"{e.location}: {e.reason}" for e in emptied),
            allow_retries=False)
    published = publish(initiative.paths)
    context.log.info(f"published {len(published.counts)} tables to {initiative.paths.serving} "
                     f"({len(published.copied)} copied whole, {len(published.updated)} updated "
                     f"key by key, the others unchanged)")
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(initiative.paths.serving)),
        "copied whole": ", ".join(published.copied),
        "updated key by key": ", ".join(published.updated),
        **{name: rows for name, rows in published.counts.items()},
    })




@dg.asset(
    group_name="publish",
    deps=[serving_snapshot],
    description="A feedback pack per partner (HTML page and safe CSVs: accepted, quarantined "
                "with reasons, flags, scorecard), from the published snapshot.",
)
def feedback_packs(context: dg.AssetExecutionContext,
                   initiative: InitiativeResource) -> dg.MaterializeResult:
    try:
        packs = write_feedback_packs(initiative.paths)
    except PacksNotWritten as error:  # the others are written: say which failed, and fail
        raise dg.Failure(description=str(error), metadata={
            "partners written": len(error.written),
            "partners failed": ", ".join(code for code, _ in error.failed)}) from error
    context.log.info(f"feedback packs for {len(packs)} partners in "
                     f"{initiative.paths.feedback_dir}")
    return dg.MaterializeResult(metadata={
        "folder": dg.MetadataValue.path(str(initiative.paths.feedback_dir)),
        "partners": len(packs),
        "quarantined_rows": sum(p.rows["quarantined"] for p in packs),
        "flags": sum(p.rows["flags"] for p in packs),
    })


@dg.asset(
    group_name="publish",
    deps=[serving_snapshot],
    description="What changed since the previous published snapshot (new submissions, revised "
                "totals, statuses, milestones reached or missed, flags, late reports): the "
                "snapshot's facts kept in history/, and digest/latest.html (plus a dated copy) "
                "for the steering committee.",
)
def change_digest(context: dg.AssetExecutionContext,
                  initiative: InitiativeResource) -> dg.MaterializeResult:
    paths = initiative.paths
    digest = write_digest(paths.serving, paths.state_dir)
    context.log.info(f"what changed: {digest.path}")
    return dg.MaterializeResult(metadata={
        "path": dg.MetadataValue.path(str(digest.path)),
        "since": digest.changes.since or "-",
        **{name: count for name, count in digest.changes.counts().items()},
    })


defs = dg.Definitions(assets=[serving_snapshot, feedback_packs, change_digest])
