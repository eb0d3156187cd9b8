"""Which submissions Great Expectations validates again: those whose values, or any column it is
given, changed since their last validation."""

from __future__ import annotations

import shutil

import duckdb

from app.summary import PUBLISHED
from murmuration.paths import ProjectPaths
from murmuration.registry import load_registry


def test_a_submission_rebuilt_from_other_inputs_is_validated_again(sample_run, tmp_path):
    """A codes change re-resolves a value's indicator without changing the value: its
    submission was not validated again (only record ids and values were compared), so its
    results told of the old indicator's definition. What a submission's values are built from is
    the model's incremental fingerprint (dbt rebuilds the submission when it changes): a
    submission is validated again when it changed, and only then (the end-to-end case, a real
    codes change, is in tests/dbt/test_incremental.py)."""
    from expectations.validate import run_quality

    assert sample_run.returncode in PUBLISHED, sample_run.stdout[-2000:]
    shutil.copytree(sample_run.paths.project_dir, tmp_path / "sample")
    paths = ProjectPaths.for_project(tmp_path / "sample")
    registry = load_registry(paths)

    assert run_quality(paths, registry).validated == {"submission": 0, "published": 0}

    con = duckdb.connect(str(paths.warehouse))
    [(submission_id,)] = con.execute(
        "select min(submission_id) from intermediate.int_records_validated "
        "where extract_problem is null and not is_withdrawal").fetchall()
    # Built again from other inputs (a registry edit), the same values: its results stand, and
    # what it was built from is recorded (the next run does not read its values again).
    con.execute("update intermediate.int_records_validated set "
                "build_fingerprint = build_fingerprint || ':edited' where submission_id = ?",
                [submission_id])
    con.close()
    assert run_quality(paths, registry).validated == {"submission": 0, "published": 0}
    con = duckdb.connect(str(paths.warehouse))
    assert con.execute("select built_from like '%:edited' from quality.validated_submissions "
                       "where scope = 'submission' and submission_id = ?",
                       [submission_id]).fetchall() == [(True,)]
    # As dbt rebuilds it after a codes change: another indicator, another build fingerprint.
    con.execute("update intermediate.int_records_validated set indicator_code = 'not_defined', "
                "build_fingerprint = build_fingerprint || ':recoded' "
                "where record_id = (select min(record_id) from intermediate.int_records_validated "
                "where submission_id = ?)", [submission_id])
    con.close()
    report = run_quality(paths, registry)
    assert report.validated == {"submission": 1, "published": 0}
    assert any(row["submission_id"] == submission_id for row in report.failing["submission"])


def _results(paths, examples: bool = True) -> list[tuple]:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    left_out = "validated_at, expectation_id" + ("" if examples else ", unexpected_examples")
    try:
        return con.execute(f"select * exclude ({left_out}) from quality.expectation_results "
                           "order by all").fetchall()
    finally:
        con.close()


def test_pieces_validated_in_forked_workers_give_the_same_results(sample_run, tmp_path,
                                                                   monkeypatch):
    """Two worker processes validating pieces of 300 values (large submissions in slices)
    store the results this process stores validating the same pieces, and the counts it
    stores validating whole submissions (the examples quoted may come from other slices)."""
    import expectations.validate as validate

    assert sample_run.returncode in PUBLISHED, sample_run.stdout[-2000:]
    shutil.copytree(sample_run.paths.project_dir, tmp_path / "sample")
    paths = ProjectPaths.for_project(tmp_path / "sample")
    registry = load_registry(paths)
    whole = _results(paths, examples=False)
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    [(failing,)] = con.execute(
        "select count(*) from quality.expectation_results where not success").fetchall()
    con.close()
    assert failing > 0  # the sample breaks some definitions: results to compare

    monkeypatch.setattr(validate, "PARALLEL_FROM_VALUES", 0)
    monkeypatch.setattr(validate, "MIN_PIECE_ROWS", 1)
    monkeypatch.setattr(validate, "CHUNK_ROWS", 300)
    results, validated = {}, {}
    for workers in (2, 1):
        con = duckdb.connect(str(paths.warehouse))
        con.execute("delete from quality.validated_submissions")
        con.close()
        validated[workers] = validate.run_quality(paths, registry, workers=workers).validated
        results[workers] = _results(paths)
        assert _results(paths, examples=False) == whole, f"{workers} worker(s)"
    assert results[2] == results[1]
    assert validated[2] == validated[1] and validated[2]["submission"] > 10
