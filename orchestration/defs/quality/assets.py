"""Great Expectations on each submission's values, as asset checks the run can be blocked by."""

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from orchestration.defs.dbt.assets import harmonised_models
from orchestration.lib.resources import InitiativeResource

SUBMISSIONS_CHECK = "submissions_meet_definitions"
PUBLISHED_CHECK = "published_values_meet_definitions"


@dg.asset(
    group_name="quality",
    deps=[get_asset_key_for_model([harmonised_models], "int_records_validated"),
          get_asset_key_for_model([harmonised_models], "indicator_values")],
    description="The registry-generated Great Expectations suite run on every new or changed "
                "submission; results in quality.expectation_results, HTML in Data Docs.",
    check_specs=[
        dg.AssetCheckSpec(SUBMISSIONS_CHECK, asset="submission_expectations",
                          description="Values partners sent meet the definitions (failures "
                                      "here were quarantined; partners should correct them)."),
        dg.AssetCheckSpec(PUBLISHED_CHECK, asset="submission_expectations", blocking=True,
                          description="Every value about to be published meets the "
                                      "definitions. Blocks publishing when it fails."),
    ],
)
def submission_expectations(context: dg.AssetExecutionContext,
                            initiative: InitiativeResource) -> dg.MaterializeResult:
    from expectations.validate import run_quality  # GX takes seconds to import: only here

    report = run_quality(initiative.paths, initiative.registry())
    context.log.info(f"{report.expectations} expectations; validated "
                     + ", ".join(f"{n} submissions ({scope})"
                                 for scope, n in report.validated.items()))

    def check(name: str, scope: str, severity: dg.AssetCheckSeverity) -> dg.AssetCheckResult:
        failing = report.failing.get(scope, [])
        return dg.AssetCheckResult(
            check_name=name, passed=not failing, severity=severity,
            metadata={
                "failing_expectations": len(failing),
                "unexpected_values": report.failures(scope),
                "submissions_affected": len({f["submission_id"] for f in failing}),
                "examples": dg.MetadataValue.json([
                    {k: (str(v) if k == "unexpected_examples" else v) for k, v in f.items()
                     if k in ("submission_id", "expectation_type", "column_name", "condition",
                              "unexpected_count", "unexpected_examples")}
                    for f in failing[:20]]),
            })

    return dg.MaterializeResult(
        metadata={"suite_fingerprint": report.suite_fingerprint,
                  "expectations": report.expectations,
                  "data_docs": dg.MetadataValue.url(report.data_docs or "")},
        check_results=[
            check(SUBMISSIONS_CHECK, "submission", dg.AssetCheckSeverity.WARN),
            check(PUBLISHED_CHECK, "published", dg.AssetCheckSeverity.ERROR),
        ])


defs = dg.Definitions(assets=[submission_expectations])
