"""The incremental models (stg_landing__records, int_records_resolved, int_records_validated:
only new or re-mapped submissions are rebuilt) give exactly the marts a full refresh gives.

A generated initiative and the sample are each built, then changed - a new file, a corrected
resubmission, a mapping change that maps some files again, a registry change - and built again
incrementally; a fresh build of the final state must publish the same rows in every table.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from app.benchmark.generate import Size, write_initiative, write_partner
from murmuration.paths import SAMPLE_PROJECT_DIR, ProjectPaths
from murmuration.sample_inbox import generate_sample_inbox
from tests.conftest import SAMPLE_AS_OF, build_outside_dagster, copy_initiative, published_rows

pytestmark = pytest.mark.slow

def fresh_build_of(paths: ProjectPaths, target: Path, as_of: str) -> ProjectPaths:
    """The same initiative folder (definitions and inbox) built from an empty state but for the
    record of when each file arrived, which a rebuild keeps."""
    shutil.copytree(paths.project_dir, target, ignore=shutil.ignore_patterns(".murmuration"))
    fresh = ProjectPaths.for_project(target)
    fresh.state_dir.mkdir(parents=True)
    shutil.copy2(paths.state_dir / "arrivals.sqlite", fresh.state_dir / "arrivals.sqlite")
    build_outside_dagster(fresh, as_of)
    return fresh


def assert_same(incremental: ProjectPaths, fresh: ProjectPaths) -> None:
    left, right = published_rows(incremental), published_rows(fresh)
    assert sorted(left) == sorted(right)
    for table in left:
        assert left[table] == right[table], table


def test_incremental_builds_of_a_generated_initiative_equal_a_full_refresh(tmp_path):
    size = Size("T", 8, 6, 8)
    as_of = "2023-09-01T00:00:00+00:00"
    paths = write_initiative(tmp_path / "grown", size)
    build_outside_dagster(paths, as_of)
    assert_every_key_recorded_as_built(paths)
    # A new month for one partner, a corrected month for another: built incrementally.
    write_partner(paths.inbox_dir, Size("T", 8, 7, 8), 0, months=range(6, 7))
    write_partner(paths.inbox_dir, size, 1, months=range(5, 6), changed=True)
    build_outside_dagster(paths, as_of)
    # Two of 48 submissions, two of 8 partners: built key by key, not whole.
    assert built_key_by_key(paths, "intermediate/int_records_validated")
    assert built_key_by_key(paths, "quality/value_flags")
    from murmuration.intake.extract import extract_pending
    from murmuration.intake.landing import load_submissions
    from murmuration.registry import load_registry

    # A mapping's codes change: its submissions are judged again and no other mapping's are
    # rebuilt; their files are not mapped again (the records are the same, dbt resolves codes).
    before, staged = build_fingerprints(paths), staged_inputs(paths)
    values_before = validated_values(paths)
    mapping = paths.mappings_dir / "long_csv.yaml"
    document = yaml.safe_load(mapping.read_text())
    document["codes"] = {"place": {"PLACE 3": "p0004"}}
    mapping.write_text(yaml.safe_dump(document, sort_keys=False))
    assert extract_pending(paths, load_registry(paths), load_submissions(paths)) == []
    validate(paths)
    build_outside_dagster(paths, as_of)
    after = build_fingerprints(paths)
    assert {mapping for submission, (mapping, built) in after.items()
            if before[submission][1] != built} == {"long_csv"}
    # Great Expectations validates again exactly the submissions whose values now name other
    # places: of the submissions dbt rebuilt, only those (their values are compared, not only
    # what they were built from).
    values_after = validated_values(paths)
    recoded = {submission for submission, values in values_after.items()
               if values_before.get(submission) != values}
    assert recoded and {after[submission][0] for submission in recoded} == {"long_csv"}
    assert validate(paths)["submission"] == recoded
    # ... and their landed records are not staged again (stg_landing__records was rebuilt for
    # every submission of the mapping, 4 M records at the benchmark's size M).
    assert staged_inputs(paths) == staged
    # A change to how its files are read: they are mapped again.
    document["withdraw_values"] = ["withdrawn", "retracted"]
    mapping.write_text(yaml.safe_dump(document, sort_keys=False))
    remapped = extract_pending(paths, load_registry(paths), load_submissions(paths))
    assert 0 < len(remapped) < len(load_submissions(paths))
    build_outside_dagster(paths, as_of)
    validate(paths)
    fresh = fresh_build_of(paths, tmp_path / "fresh", as_of)
    assert_same(paths, fresh)
    # ... and the results of validating only what changed, run after run, are a fresh
    # validation's.
    validate(fresh)
    assert expectation_results(paths) == expectation_results(fresh)


def validate(paths: ProjectPaths) -> dict[str, set[str]]:
    """Great Expectations on what changed since the last validation: the submissions validated,
    by scope."""
    from expectations.validate import run_quality
    from murmuration.registry import load_registry

    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        before = set(con.execute("select scope, submission_id, fingerprint from "
                                 "quality.validated_submissions").fetchall()) \
            if con.execute("select count(*) from information_schema.tables where table_schema = "
                           "'quality' and table_name = 'validated_submissions'").fetchall()[0][0] \
            else set()
    finally:
        con.close()
    run_quality(paths, load_registry(paths), workers=1)
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        after = set(con.execute("select scope, submission_id, fingerprint from "
                                "quality.validated_submissions").fetchall())
    finally:
        con.close()
    validated: dict[str, set[str]] = {"submission": set(), "published": set()}
    for scope, submission, _ in after - before:
        validated[scope].add(submission)
    return validated


def validated_values(paths: ProjectPaths) -> dict[str, str]:
    """Per submission, a digest of the values Great Expectations is given ("submission")."""
    from expectations.validate import SCOPES

    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return dict(con.execute(
            f"select submission_id, md5(string_agg(v::varchar, '|' order by record_id)) "
            f"from ({SCOPES['submission']}) as v group by submission_id").fetchall())
    finally:
        con.close()


def expectation_results(paths: ProjectPaths) -> list[tuple]:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return con.execute("select * exclude (validated_at, expectation_id) from "
                           "quality.expectation_results order by all").fetchall()
    finally:
        con.close()


KEYED_MODELS = {
    # model: (key, fingerprint, the inputs it is built from)
    "staging.stg_landing__records": ("submission_id", "records_fingerprint",
                                     "staging.stg_landing__submissions"),
    "intermediate.int_records_resolved": ("submission_id", "build_fingerprint",
                                          "staging.stg_landing__submissions"),
    "intermediate.int_records_validated": ("submission_id", "build_fingerprint",
                                           "staging.stg_landing__submissions"),
    "intermediate.int_row_outcomes": ("submission_id", "build_fingerprint",
                                      "staging.stg_landing__submissions"),
    "intermediate.int_records_outcomes": ("partner_key", "partner_inputs",
                                          "intermediate.int_partner_inputs"),
    "intermediate.int_indicator_units": ("partner_key", "partner_inputs",
                                         "intermediate.int_partner_inputs"),
    "marts.indicator_values": ("partner_key", "partner_inputs", "intermediate.int_partner_inputs"),
    "marts.indicator_contributions": ("partner_key", "partner_inputs",
                                      "intermediate.int_partner_inputs"),
    "quality.value_flags": ("partner_key", "partner_inputs", "intermediate.int_partner_inputs"),
    "quality.relation_flags": ("partner_key", "partner_inputs", "intermediate.int_partner_inputs"),
    "intermediate.int_period_aggregates": ("period_start", "period_inputs",
                                           "intermediate.int_period_inputs"),
    "marts.indicator_breakdowns": ("period_start", "period_inputs",
                                   "intermediate.int_period_inputs"),
}


def assert_every_key_recorded_as_built(paths: ProjectPaths) -> None:
    """Each keyed incremental model records what every key was built from, also the keys that
    gave it no row: a partner with no relation flag (this initiative declares no relation) was
    rebuilt on every run before, because its absent rows could not say what they were built
    from; so was every partner, every run, in relation_flags."""
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from quality.relation_flags").fetchall() == [(0,)]
        for model, (key, fingerprint, inputs) in KEYED_MODELS.items():
            state = f"incremental_state.{model.replace('.', '__')}__{fingerprint}"
            not_recorded = con.execute(
                f"select count(*) from {inputs} as inputs where not exists (select 1 from "
                f"{state} as built where built.{key} = inputs.{key} and "
                f"built.{fingerprint} = inputs.{fingerprint})").fetchall()[0][0]
            assert not_recorded == 0, model
            assert con.execute(f"select count(*) from {inputs}").fetchall()[0][0] > 0, model
    finally:
        con.close()


def built_key_by_key(paths: ProjectPaths, model: str) -> bool:
    """Whether dbt's last build (murmuration.build's, target ``check``) of a keyed model replaced
    its keys one by one (delete and insert) rather than writing the table whole."""
    run = paths.state_dir / "dbt" / "check" / "run" / "murmuration" / "models" / f"{model}.sql"
    return "delete from" in run.read_text().lower()


def build_fingerprints(paths: ProjectPaths) -> dict[str, tuple[str, str]]:
    """Per submission: its mapping and what its incremental models were built from."""
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return {submission: (mapping, built) for submission, mapping, built in con.execute(
            "select submission_id, mapping_name, build_fingerprint "
            "from staging.stg_landing__submissions").fetchall()}
    finally:
        con.close()


def staged_inputs(paths: ProjectPaths) -> dict[str, str]:
    """Per submission, what stg_landing__records was last built from."""
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return dict(con.execute(
            "select submission_id, records_fingerprint from incremental_state."
            "staging__stg_landing__records__records_fingerprint").fetchall())
    finally:
        con.close()


def test_incremental_build_of_the_sample_after_a_registry_change_equals_a_full_refresh(
        tmp_path):
    paths = copy_initiative(SAMPLE_PROJECT_DIR, tmp_path / "sample")
    generate_sample_inbox(paths)
    build_outside_dagster(paths, SAMPLE_AS_OF)
    # An alias for the unknown ward: every submission is judged again (definitions changed).
    dimensions = paths.registry_dir / "dimensions.yaml"
    dimensions.write_text(dimensions.read_text().replace("aliases: [North Gate]",
                                                         "aliases: [North Gate, Nortgate]"))
    build_outside_dagster(paths, SAMPLE_AS_OF)
    # Every submission and partner to build again: the keyed models are built whole
    # (should_full_refresh), not key by key (slower when most keys change), with the same rows.
    assert not built_key_by_key(paths, "intermediate/int_records_validated")
    assert not built_key_by_key(paths, "quality/value_flags")
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    assert con.execute("select count(*) from marts.quarantined_values where place_text = "
                       "'Nortgate'").fetchall() == [(0,)]
    con.close()
    # Then judged on a later day, nothing else changed: more reports are due (the scorecard is
    # rebuilt by the day it is judged on as well as by its partners' records).
    later = "2027-01-15T09:30:00+00:00"
    build_outside_dagster(paths, later)
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    assert con.execute("select count(*) from quality.submission_scorecard where report_start "
                       ">= '2026-11-01' and expected").fetchall()[0][0] > 0
    con.close()
    assert_same(paths, fresh_build_of(paths, tmp_path / "fresh", later))


def test_flags_a_definitions_change_clears_are_gone_from_an_incremental_build(tmp_path):
    """Partner-keyed models replace a partner's rows by the rows built again: a partner left with
    no flag at all (the thresholds were raised) kept its old flags, because it had no new row to
    replace them with. An incremental build equals a full refresh."""
    paths = copy_initiative(SAMPLE_PROJECT_DIR, tmp_path / "sample")
    generate_sample_inbox(paths)
    build_outside_dagster(paths, SAMPLE_AS_OF)
    con = duckdb.connect(str(paths.warehouse))
    assert con.execute("select count(*) from quality.value_flags").fetchall()[0][0] > 0
    # And a table an older version built whole, without the partner columns (a warehouse
    # upgraded in place): its rows are replaced too, not kept beside the new ones.
    con.execute("alter table marts.indicator_contributions drop column partner_key")
    con.execute("alter table marts.indicator_contributions drop column partner_inputs")
    con.close()
    initiative = paths.initiative_file
    text = initiative.read_text()
    for name, value in (("outlier_moderate_z: 2", "outlier_moderate_z: 90"),
                        ("outlier_moderate_modified_z: 3.5", "outlier_moderate_modified_z: 90"),
                        ("outlier_extreme_z: 3", "outlier_extreme_z: 99"),
                        ("outlier_extreme_modified_z: 5", "outlier_extreme_modified_z: 99"),
                        ("consistency_tolerance: 0.33", "consistency_tolerance: 90")):
        assert name in text
        text = text.replace(name, value)
    initiative.write_text(text)
    build_outside_dagster(paths, SAMPLE_AS_OF)
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    assert con.execute("select count(*) from quality.value_flags").fetchall() == [(0,)]
    con.close()
    assert_same(paths, fresh_build_of(paths, tmp_path / "fresh", SAMPLE_AS_OF))
