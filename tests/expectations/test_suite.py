"""The GX suite comes from the registry, catches each kind of planted violation, passes clean."""

from __future__ import annotations

import pandas as pd
import pytest

from expectations.suite import allowed_disaggregations, suite_expectations
from murmuration.paths import SAMPLE_PROJECT_DIR, ProjectPaths
from murmuration.registry import load_registry


@pytest.fixture(scope="module")
def registry():
    return load_registry(ProjectPaths.for_project(SAMPLE_PROJECT_DIR))


@pytest.fixture(scope="module")
def validate(registry):
    import great_expectations as gx

    from expectations.validate import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    suite = context.suites.add(gx.ExpectationSuite(name="test", expectations=suite_expectations(
        registry)))
    batch = context.data_sources.add_pandas("frames").add_dataframe_asset("frame") \
        .add_batch_definition_whole_dataframe("whole")

    def run(frame: pd.DataFrame) -> dict[str, int]:
        result = batch.get_batch(batch_parameters={"dataframe": frame}).validate(suite)
        return {f"{r.expectation_config.type}:{r.expectation_config.kwargs.get('column')}":
                r.result.get("unexpected_count", 0) for r in result.results if not r.success}

    return run


def clean_frame() -> pd.DataFrame:
    frame = pd.DataFrame([
        {"record_id": "a", "indicator_code": "children_enrolled", "partner_code": "brightstart",
         "period": "2025-03", "place_code": "north", "disaggregation": "age_band=0-2;sex=f",
         "value": 40.0},
        {"record_id": "b", "indicator_code": "reading_hours", "partner_code": "library_service",
         "period": "2025-03", "place_code": "east", "disaggregation": "total", "value": 55.5},
        {"record_id": "c", "indicator_code": "home_visits", "partner_code": "family_hub",
         "period": "2025-03", "place_code": "west", "disaggregation": "total", "value": 0.0},
    ])
    frame["submission_id"] = "s1"
    frame["reporting_unit"] = ""  # the partner as a whole
    frame["duplicate_keys"] = "quarantine"
    frame["dedupe_key"] = ""  # no site named (dedupe_by)
    return frame


def test_suite_is_generated_from_the_registry(registry):
    expectations = suite_expectations(registry)
    ranges = {(e.row_condition.parameter, e.min_value, e.max_value) for e in expectations
              if e.expectation_type == "expect_column_values_to_be_between"}
    assert ("children_enrolled", 0, 400) in ranges
    assert ("families_in_temporary_housing", 0, 300) in ranges
    assert not any(code == "immunisation_coverage" for code, _, _ in ranges)  # computed, not sent
    assert allowed_disaggregations(registry.indicators["immunised_children"], registry) == [
        "sex=f", "sex=m", "total"]


def test_clean_values_pass(validate):
    assert validate(clean_frame()) == {}


@pytest.mark.parametrize("column, bad, expected", [
    ("value", 401.0, "expect_column_values_to_be_between:value"),
    ("value", None, "expect_column_values_to_not_be_null:value"),
    ("partner_code", "unknown_partner", "expect_column_values_to_be_in_set:partner_code"),
    ("place_code", "atlantis", "expect_column_values_to_be_in_set:place_code"),
    ("disaggregation", "age_band=5-6", "expect_column_values_to_be_in_set:disaggregation"),
    ("period", "March 2025", "expect_column_values_to_match_regex:period"),
    ("indicator_code", "immunisation_coverage", "expect_column_values_to_be_in_set:indicator_code"),
    # Row 0 given row 1's record id: a record id is not part of the key, still clean.
    ("record_id", "b", None),
])
def test_each_planted_violation_is_caught(validate, column, bad, expected):
    frame = clean_frame()
    frame.loc[0, column] = bad
    failures = validate(frame)
    if expected is None:
        assert failures == {}
    else:
        assert failures.get(expected) == 1


def test_a_key_twice_in_one_submission_is_caught_unless_the_mapping_sums(validate):
    frame = pd.concat([clean_frame(), clean_frame().iloc[[1]].assign(record_id="d")])
    assert validate(frame).get(
        "expect_compound_columns_to_be_unique:None") == 2
    assert validate(frame.assign(duplicate_keys="sum")) == {}
    # Two sites of one key (dedupe_by) are two values, not the key twice.
    assert validate(frame.assign(dedupe_key=["camp a", "camp b", "camp c", "camp d"])) == {}
    # Two reporting units of one partner may report the same key in one file.
    units = frame.assign(reporting_unit=["", "office_a", "", "office_b"])
    assert validate(units) == {}
