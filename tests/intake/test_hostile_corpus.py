"""The hostile corpus (tests/intake/hostile_corpus.py): every file lands, is mapped and built by
the real pipeline parts, and each gets the outcome a partner can act on.

Across the corpus: no traceback and no engine's words in anything a partner reads, every file
kept byte for byte, every data row of a landed file accepted or quarantined. The outcome of each
file is written to artifacts/hostile_corpus.md."""

from __future__ import annotations

import re

import duckdb
import pytest

from murmuration.paths import SAMPLE_PROJECT_DIR
from tests.conftest import ARTIFACTS, SAMPLE_AS_OF, build_outside_dagster, copy_initiative
from tests.intake.hostile_corpus import Case, cases

CASES = cases()
# Words that belong to an engine or a stack trace, never to a partner's reason.
ENGINE_WORDS = re.compile(r"Traceback|Exception|Error:|calamine|duckdb|Binder|pyarrow|"
                          r"Invalid Input|Conversion Error|File \"|line \d+, in ", re.IGNORECASE)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, dbt_manifest):
    paths = copy_initiative(SAMPLE_PROJECT_DIR, tmp_path_factory.mktemp("corpus") / "sample")
    with (paths.project_dir / "initiative.yaml").open("a", encoding="utf-8") as handle:
        handle.write("\nlimits:\n  workbook_expanded_mb: 2\n")
    for case in CASES:
        target = paths.inbox_dir / case.folder / case.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(case.content)
    build_outside_dagster(paths, SAMPLE_AS_OF)
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        submissions = {(row[0], row[1]): row for row in con.execute(
            "select folder, file_name, landing_status, coalesce(message, ''), data_rows, "
            "rows_accepted, rows_quarantined, submission_id from marts.submissions").fetchall()}
        reasons = {}
        for folder, file_name, reason in con.execute(
                "select s.folder, s.file_name, q.quarantine_reason from marts.quarantined_values q "
                "join marts.submissions s using (submission_id)").fetchall():
            reasons.setdefault((folder, file_name), []).append(reason)
    finally:
        con.close()
    outcomes = {case.id: _outcome(case, submissions, reasons) for case in CASES}
    _write_table(outcomes)
    return paths, submissions, reasons


def _outcome(case: Case, submissions, reasons) -> str:
    found = submissions.get((case.folder, case.name))
    if found is None:
        return "unchanged (the same bytes as a file already received: counted once)"
    _, _, status, message, data_rows, accepted, quarantined, _ = found
    if status != "landed":
        return f"{status}: {message}"
    said = "; ".join(sorted(set(reasons.get((case.folder, case.name), []))))[:300]
    text = f"landed: {data_rows} data rows, {accepted} accepted, {quarantined} quarantined"
    return text + (f" - {message}" if message else "") + (f" ({said})" if said else "")


def _write_table(outcomes: dict[str, str]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    lines = ["| case | file | outcome a partner sees |", "|---|---|---|"]
    for case in CASES:
        shown = outcomes[case.id].replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {case.id} | {case.folder}/{case.name} | {shown} |")
    (ARTIFACTS / "hostile_corpus.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_corpus_has_sixty_hostile_files_of_every_format():
    assert len(CASES) >= 60
    assert len({case.id for case in CASES}) == len(CASES)
    suffixes = {case.name.rsplit(".", 1)[-1] for case in CASES}
    assert {"csv", "xlsx", "json"} <= suffixes


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_each_hostile_file_gets_an_outcome_a_partner_can_act_on(corpus, case):
    paths, submissions, reasons = corpus
    found = submissions.get((case.folder, case.name))
    if case.status == "unchanged":
        assert found is None  # the same bytes in the same folder: one submission
        return
    assert found is not None, f"{case.name} is not among the submissions"
    _, _, status, message, data_rows, accepted, quarantined, submission_id = found
    said = reasons.get((case.folder, case.name), [])
    assert status == case.status, message
    # Kept as received, byte for byte.
    received = paths.received_dir / submission_id / case.name
    assert received.read_bytes() == case.content
    # Words a partner can act on: never a traceback or an engine's message.
    for text in [message, *said]:
        assert not ENGINE_WORDS.search(text), text
        assert "\x00" not in text
    if status != "landed":
        assert message, "a file not read says why"
        if case.says:
            assert case.says in message, message
        return
    # Every data row is accepted or quarantined, with a reason for each one quarantined.
    assert data_rows == accepted + quarantined, (data_rows, accepted, quarantined)
    if quarantined:
        assert said, "a quarantined row has a reason"
    if case.accepted is not None:
        assert (accepted, quarantined) == (case.accepted, case.quarantined), said or message
    if case.says:
        assert any(case.says in text for text in [message, *said]), (message, said)


def test_great_expectations_in_slices_gives_the_results_of_one_validation(corpus, monkeypatch):
    """A submission larger than a validation's chunk (a national export of millions of values)
    is validated a slice at a time, in bounded memory; submissions with too many failing rows to
    locate are validated one by one (GX locates a failing row a Python step at a time: a file of
    a million duplicate keys took over ten minutes). The results are the same."""
    from expectations import validate
    from murmuration.registry import load_registry

    paths = corpus[0]
    registry = load_registry(paths)

    def results(chunk_rows: int, rows_to_locate: int = validate.ROWS_TO_LOCATE,
                again: list[str] | None = None) -> list[tuple]:
        monkeypatch.setattr(validate, "CHUNK_ROWS", chunk_rows)
        monkeypatch.setattr(validate, "ROWS_TO_LOCATE", rows_to_locate)
        con = duckdb.connect(str(paths.warehouse))
        try:
            validate._ensure_tables(con)
            con.execute("delete from quality.validated_submissions where submission_id in "
                        "(select unnest(?::varchar[])) or ?", [again or [], again is None])
        finally:
            con.close()
        validate.run_quality(paths, registry)
        con = duckdb.connect(str(paths.warehouse), read_only=True)
        try:
            return con.execute(
                "select scope, submission_id, expectation_type, column_name, condition, "
                "success, element_count, unexpected_count, unexpected_examples "
                "from quality.expectation_results order by all").fetchall()
        finally:
            con.close()

    whole = results(1_000_000)
    assert any(not row[5] for row in whole)  # the corpus breaks definitions
    assert max(row[6] for row in whole) > 3  # and has submissions larger than a slice
    # Validated again (the others keep their results): the larger ones in slices of 3 values,
    # then those that failed one by one.
    larger = sorted({row[1] for row in whole if row[6] > 3})[:8]
    assert results(3, again=larger) == whole
    failing = sorted({row[1] for row in whole if not row[5]})[:6]
    assert results(1_000_000, rows_to_locate=0, again=failing) == whole


def test_every_partner_gets_its_feedback_pack_whatever_its_periods(corpus):
    """A row for 9999-12 or 0205-03 is quarantined, is never a report due in year 10000 (the
    packs' date formatting stopped every partner's pack), and is listed in its partner's
    pack with the reason."""
    from murmuration.feedback import write_feedback_packs
    from murmuration.warehouse import publish

    paths = corpus[0]
    publish(paths)
    packs = {pack.partner_code: pack for pack in write_feedback_packs(paths)}
    assert "library_service" in packs and len(packs) >= 5
    quarantined = (packs["library_service"].folder / "quarantined.csv").read_text("utf-8-sig")
    assert "9999-12" in quarantined and "had not started when the file arrived" in quarantined
    assert "is before 2014-11, the earliest this initiative takes" in quarantined
    con = duckdb.connect(str(paths.serving), read_only=True)
    try:
        due = con.execute("select min(due_date), max(due_date) from "
                          "quality.partner_period_reports").fetchone()
    finally:
        con.close()
    assert due[0].year >= 2014 and due[1].year <= 2027


def test_one_partners_pack_failing_leaves_the_others_written(corpus, monkeypatch):
    """Whatever stops one pack (here a fault injected into one partner's writing), every other
    partner's pack is written, and the error names the partner."""
    from murmuration import feedback

    paths = corpus[0]
    if not paths.serving.exists():
        from murmuration.warehouse import publish
        publish(paths)
    for marker in paths.feedback_dir.glob(f"*/{feedback.FINGERPRINT_FILE}"):
        marker.unlink()  # every pack is written again
    real = feedback._write_pack

    def failing(con, root, code, *args):
        if code == "brightstart":
            raise ValueError("year 10000 is out of range")
        return real(con, root, code, *args)

    monkeypatch.setattr(feedback, "_write_pack", failing)
    with pytest.raises(feedback.PacksNotWritten) as raised:
        feedback.write_feedback_packs(paths)
    assert [code for code, _ in raised.value.failed] == ["brightstart"]
    assert "brightstart: ValueError: year 10000 is out of range" in str(raised.value)
    written = {pack.partner_code for pack in raised.value.written}
    assert "library_service" in written and "brightstart" not in written
    assert not list(paths.feedback_dir.glob(".building-*"))
