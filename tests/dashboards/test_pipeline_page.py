"""The pipeline status page answers the backbone only: its layout and its callback check the
signed-in user on the server, whatever the browser sends (the real Flask server, the sample run)."""

from __future__ import annotations

from tests.dashboards.http import body, callback, sign_in

NOT_ALLOWED = "The pipeline status page is for the backbone's data team."  # pages/pipeline.py
PIPELINE_OUTPUT = "pipeline-content.children"
ASKED = [{"id": "pipeline-refresh", "property": "n_intervals", "value": 1}]


def test_the_pipeline_callback_answers_only_the_backbone(server):
    for username in ("steering", "wg-early", "brightstart"):
        answer = body(callback(sign_in(server, username), PIPELINE_OUTPUT, ASKED))
        assert NOT_ALLOWED in answer
        assert "parents_together_2025-08.xlsx" not in answer and "EOCD" not in answer
    admin = body(callback(sign_in(server, "admin"), PIPELINE_OUTPUT, ASKED))
    assert NOT_ALLOWED not in admin
    assert "parents_together/parents_together_2025-08.xlsx" in admin
    assert "Could not find EOCD" in admin  # the technical detail, for the data team


def test_the_pipeline_page_is_listed_for_the_backbone_only(server):
    assert "/pipeline" in body(sign_in(server, "admin").get("/_dash-layout"))
    assert "/pipeline" not in body(sign_in(server, "steering").get("/_dash-layout"))


def test_links_and_pipes_set_aside_are_listed_on_the_pipeline_page(server, sample_run,
                                                                   tmp_path, monkeypatch):
    """What the last landing set aside unread (not files) shows beside the files not read,
    with the partner's name and the reason."""
    import json
    import shutil

    from dashboards import pipeline_queries
    from murmuration.intake.landing import NOT_FILES_FILE

    serving = tmp_path / "serving.duckdb"
    shutil.copy(sample_run.paths.serving, serving)
    (tmp_path / NOT_FILES_FILE).write_text(json.dumps({
        "looked_at": "2026-12-08T00:28:00+00:00",
        "not_files": [["library_service/system.csv", "a link (to /etc/passwd), not a file: "
                       "links in the inbox are never followed; put the file itself in the "
                       "folder"]]}))
    monkeypatch.setattr(pipeline_queries, "serving_path", lambda: serving)
    admin = body(callback(sign_in(server, "admin"), PIPELINE_OUTPUT, ASKED))
    assert "library_service/system.csv" in admin
    assert "ignored, never read: not a file" in admin
    assert "a link (to /etc/passwd), not a file" in admin
    assert "City Library Service" in admin
