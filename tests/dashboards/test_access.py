"""Access is enforced on the server: every route and callback, whatever the browser sends.

Each finding of the probe (no sign-in anywhere; a pack CSV open to anyone; the quality callback
answering any partner's rows for any partner code) is a test here, run against the dashboard's
real Flask server on the published sample (the browser tests drive the same pages in chromium).
"""

from __future__ import annotations

import base64
import json
import re

import pytest

from tests.conftest import PASSWORD
from tests.dashboards.http import body, callback, csrf, sign_in

QUALITY_OUTPUTS = "..quality-chart.figure...quality-detail.children.."
PAGE_OUTPUTS = ".._pages_content.children..._pages_store.data.."


def test_signed_out_visitors_get_only_the_sign_in_page(server):
    client = server.test_client()
    for path in ("/", "/milestones", "/quality", "/portal"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/login?next={path}"
    # The probe's findings: the pack's CSV and the callbacks answered anyone.
    assert client.get("/feedback/brightstart/quarantined.csv").status_code == 401
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/_dash-dependencies").status_code == 401
    assert callback(client, QUALITY_OUTPUTS, [
        {"id": "quality-partner", "property": "value", "value": "brightstart"}]
    ).status_code == 401
    page = body(client.get("/login"))
    assert "Sign in" in page and "Riverside" not in page


def test_sign_in_needs_the_form_token_and_the_right_password(server):
    client = server.test_client()
    assert client.post("/login", data={"username": "admin", "password": PASSWORD}
                       ).status_code == 400  # no CSRF token
    response = client.post("/login", data={"csrf_token": csrf(client), "username": "admin",
                                           "password": "wrong password!"})
    assert response.status_code == 401
    assert "Wrong user name or password." in body(response)
    assert client.get("/").status_code == 302
    # An open redirect is refused: after sign-in the user stays on this site.
    response = client.post("/login", data={"csrf_token": csrf(client), "username": "admin",
                                           "password": PASSWORD, "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/").status_code == 200


def test_repeated_failures_lock_the_user_name(server, sample_run):
    from murmuration.access import UserStore

    UserStore(sample_run.paths.project_dir).add("locked-out", "steering", PASSWORD)
    client = server.test_client()
    for _ in range(5):
        assert client.post("/login", data={"csrf_token": csrf(client), "username": "locked-out",
                                           "password": "not the password"}).status_code == 401
    # Now even the right password is refused for a while, and the page says why.
    response = client.post("/login", data={"csrf_token": csrf(client), "username": "locked-out",
                                           "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in body(response)
    # Another user name is not locked.
    sign_in(server, "steering")


def test_sign_out_needs_a_post_with_the_token(server):
    client = sign_in(server, "steering")
    client.get("/logout")  # a link (or an image on another site) does not sign out
    assert client.post("/logout").status_code == 400  # nor a post without the token
    page = client.get("/")
    assert page.status_code == 200
    token = re.search(r'"value":"([^"]+)","type":"hidden","name":"csrf_token"', client.get(
        "/_dash-layout").get_data(as_text=True)).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_signing_out_ends_the_session_wherever_its_cookie_went(server):
    """Found: a cookie copied before sign-out still worked after it (the session lived in the
    cookie). The server keeps the session; signing out ends it for every copy."""
    client = sign_in(server, "steering")
    cookie = client.get_cookie("murmuration_session")
    copy = server.test_client()
    copy.set_cookie("murmuration_session", cookie.value)
    assert copy.get("/").status_code == 200  # the copy works while the session lives
    token = re.search(r'"value":"([^"]+)","type":"hidden","name":"csrf_token"', client.get(
        "/_dash-layout").get_data(as_text=True)).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert copy.get("/").status_code == 302
    assert copy.get("/_dash-layout").status_code == 401
    assert copy.get("/feedback/brightstart/quarantined.csv").status_code == 401


def test_one_client_trying_many_user_names_is_throttled(server):
    """Found: the throttle counted per user name only, so one client could try many names.
    After 20 failures from one address, that address is refused a while, whatever the name
    (the right password too); another address signs in."""
    attacker = server.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    for attempt in range(20):
        response = attacker.post("/login", data={
            "csrf_token": csrf(attacker), "username": f"guess-{attempt}",
            "password": "not the password"})
        assert response.status_code == 401
    response = attacker.post("/login", data={"csrf_token": csrf(attacker),
                                             "username": "steering", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-ins from this address" in body(response)
    sign_in(server, "steering")  # from another address


def test_a_request_larger_than_an_upload_is_refused_unread(server):
    """Found: there was no request-size cap (a 200 MB POST grew the server by 211 MB). A body
    over the cap gets a 413 page saying the limit, whoever sends it."""
    from dashboards.auth import MAX_REQUEST_BYTES

    assert 34 * 1048576 < MAX_REQUEST_BYTES < 36 * 1048576  # a 25 MB upload, base64, fits
    client = sign_in(server, "brightstart")
    response = client.post("/_dash-update-component", data=b"x" * (MAX_REQUEST_BYTES + 1),
                           content_type="application/json")
    assert response.status_code == 413
    assert body(response) == ("The request is larger than this server accepts (35 MB). Files "
                              "are sent through the portal up to 25 MB each: split a larger "
                              "file by period.\n")
    anonymous = server.test_client()
    assert anonymous.post("/login", data=b"x" * (MAX_REQUEST_BYTES + 1),
                          content_type="application/x-www-form-urlencoded").status_code == 413


def test_a_changed_password_or_removed_user_ends_the_session(server, sample_run):
    from murmuration.access import UserStore

    store = UserStore(sample_run.paths.project_dir)
    store.add("short-lived", "steering", PASSWORD)
    client = sign_in(server, "short-lived")
    assert client.get("/").status_code == 200
    store.set_password("short-lived", "another long password")
    assert client.get("/").status_code == 302
    client = sign_in(server, "short-lived", "another long password")
    store.remove("short-lived")
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("username, own, other", [
    ("admin", ["brightstart", "little_steps"], []),
    ("steering", [], ["brightstart", "little_steps"]),
    ("wg-early", [], ["brightstart", "little_steps"]),
    ("brightstart", ["brightstart"], ["little_steps"]),
    ("littlesteps", ["little_steps"], ["brightstart"]),
])
def test_feedback_packs_only_for_the_partner_and_the_backbone(server, username, own, other):
    client = sign_in(server, username)
    for partner in own:
        response = client.get(f"/feedback/{partner}/quarantined.csv")
        assert response.status_code == 200 and response.data.startswith(b"\xef\xbb\xbf")
        index = client.get(f"/feedback/{partner}/index.html")
        assert index.status_code == 200
        # Found: the folder's address, the one the docs name, answered 404.
        folder = client.get(f"/feedback/{partner}/")
        assert folder.status_code == 200 and folder.data == index.data
        bare = client.get(f"/feedback/{partner}")
        assert bare.status_code in (301, 308) and bare.headers["Location"].endswith(
            f"/feedback/{partner}/")
    # Found: another partner's pack answered 404 as if missing; it is refused (403), with
    # nothing of the pack in the answer.
    for partner in other:
        for name in ("quarantined.csv", "index.html", "accepted.csv", "../brightstart/flags.csv",
                     ""):
            refused = client.get(f"/feedback/{partner}/{name}")
            assert refused.status_code == 403, (partner, name)
            assert refused.data == b"You may not see this partner's feedback pack.\n"


def test_quality_callback_answers_only_what_the_role_may_see(server):
    partner = sign_in(server, "brightstart")
    asked = [{"id": "quality-partner", "property": "value", "value": "little_steps"}]
    response = callback(partner, QUALITY_OUTPUTS, asked)
    text = body(response)
    assert response.status_code == 200
    assert "No scorecard to show." in text
    assert "Little Steps" not in text and "quarantine" not in text.lower()
    own = callback(partner, QUALITY_OUTPUTS, [dict(asked[0], value="brightstart")])
    assert "Values that look unusual" in body(own)
    # The steering committee sees every scorecard, but no partner's rows, files or pack.
    steering = callback(sign_in(server, "steering"), QUALITY_OUTPUTS, asked)
    text = body(steering)
    assert "Little Steps" in text and "Reports received late" in text
    assert "Values that look unusual" not in text and "/feedback/" not in text
    assert "example_file" not in text and ".csv" not in text and ".xlsx" not in text
    admin = body(callback(sign_in(server, "admin"), QUALITY_OUTPUTS, asked))
    assert "Values that look unusual" in admin and "/feedback/little_steps/" in admin


def test_quality_page_lists_only_the_partners_own_scorecard(server):
    layout = body(sign_in(server, "brightstart").get("/_dash-layout"))
    assert "Sign out" in layout and "Portal" in layout
    page = callback(sign_in(server, "brightstart"), PAGE_OUTPUTS, [
        {"id": "_pages_location", "property": "pathname", "value": "/quality"},
        {"id": "_pages_location", "property": "search", "value": "?partner=little_steps"}])
    text = body(page)
    assert "BrightStart" in text and "Little Steps" not in text


# The indicator callback also redraws when a note is added below the chart.
NOTES = {"id": "learning-log-changed", "property": "data", "value": None}
INDICATOR_OUTPUTS = (
    "..milestone-chart.figure...milestone-status.children...milestone-definition.children..."
    "milestone-breakdowns.children...milestone-contributions.children...milestone-downloads."
    "children...milestone-chart.config..")


def test_working_group_sees_its_indicators_in_full_and_not_the_others(server):
    member = sign_in(server, "wg-early")
    outputs = INDICATOR_OUTPUTS
    own = callback(member, outputs, [
        {"id": "milestone-indicator", "property": "value", "value": "children_enrolled"},
        {"id": "milestone-place", "property": "value", "value": "east"}, NOTES])
    assert "Children enrolled" in body(own)
    other = callback(member, outputs, [
        {"id": "milestone-indicator", "property": "value",
         "value": "families_in_temporary_housing"},
        {"id": "milestone-place", "property": "value", "value": "all"}, NOTES])
    text = body(other)
    assert "not in your working groups" in text and "scatter" not in text
    # An unknown code (typed by hand) is an empty state, not an error.
    unknown = callback(sign_in(server, "admin"), outputs, [
        {"id": "milestone-indicator", "property": "value", "value": "no_such_thing"},
        {"id": "milestone-place", "property": "value", "value": "nowhere"}, NOTES])
    assert unknown.status_code == 200 and "No indicator with this code." in body(unknown)
    unknown = callback(sign_in(server, "admin"), QUALITY_OUTPUTS, [
        {"id": "quality-partner", "property": "value", "value": "no_such_partner"}])
    assert unknown.status_code == 200 and "No scorecard to show." in body(unknown)
    # The overview still shows every indicator's status, as it does to everyone.
    overview = callback(member, PAGE_OUTPUTS, [
        {"id": "_pages_location", "property": "pathname", "value": "/"},
        {"id": "_pages_location", "property": "search", "value": ""}])
    assert "Families in temporary housing" in body(overview)


def registered_output(client, starts: str) -> str:
    """The output key Dash registered for a callback (outputs shared with another callback
    carry a suffix: allow_duplicate)."""
    dependencies = client.get("/_dash-dependencies").get_json()
    return next(d["output"] for d in dependencies if d["output"].startswith(starts))


def test_portal_refuses_another_partners_upload_and_token(server, sample_run):
    from murmuration.intake.upload import stage

    partner = sign_in(server, "brightstart")
    partner.get("/")
    confirm_outputs = registered_output(partner, "..portal-sent.children@")
    content = "data:text/csv;base64," + base64.b64encode(b"a,b\n1,2\n").decode()
    outputs = ("..portal-check.children...portal-staged.data...portal-confirm.disabled..."
               "portal-sent.children..")
    response = callback(partner, outputs, [
        {"id": "portal-upload", "property": "contents", "value": content}], [
        {"id": "portal-upload", "property": "filename", "value": "x.csv"},
        {"id": "portal-partner", "property": "value", "value": "little_steps"}])
    assert "You cannot send files for this partner." in body(response)
    # A token staged for little_steps, confirmed from brightstart's session: refused, and the
    # file never reaches any inbox.
    token, staged = stage(sample_run.paths, "little_steps", "theirs.csv", b"a,b\n1,2\n")
    response = callback(partner, confirm_outputs, [
        {"id": "portal-confirm", "property": "n_clicks", "value": 1}], [
        {"id": "portal-staged", "property": "data",
         "value": {"token": token, "partner": "little_steps"}}])
    assert "You cannot send files for this partner." in body(response)
    response = callback(partner, confirm_outputs, [
        {"id": "portal-confirm", "property": "n_clicks", "value": 1}], [
        {"id": "portal-staged", "property": "data",
         "value": {"token": token, "partner": "brightstart"}}])
    assert "not known" in body(response)
    assert staged.exists()
    assert not list(sample_run.paths.inbox_dir.rglob("theirs.csv"))
    # The steering committee cannot upload at all.
    steering = sign_in(server, "steering")
    response = callback(steering, outputs, [
        {"id": "portal-upload", "property": "contents", "value": content}], [
        {"id": "portal-upload", "property": "filename", "value": "x.csv"},
        {"id": "portal-partner", "property": "value", "value": "brightstart"}])
    assert "You cannot send files for this partner." in body(response)
    layout = json.loads(body(steering.get("/_dash-layout")))
    assert "/portal" not in json.dumps(layout)


def test_dash_callbacks_refuse_form_posts(server):
    client = sign_in(server, "admin")
    response = client.post("/_dash-update-component", data={"output": "x"})
    assert response.status_code == 400


def test_indicator_callbacks_answer_bad_inputs_with_a_message(server):
    """Hand-made posts (unknown codes, wrong types, a click on nothing) get an answer, never
    HTTP 500; a steering member's click lists no partner's rows."""
    admin = sign_in(server, "admin")
    outputs = INDICATOR_OUTPUTS
    for indicator, place in [(["x"], "all"), ("children_enrolled", {"a": 1}), (None, None)]:
        answer = callback(admin, outputs, [
            {"id": "milestone-indicator", "property": "value", "value": indicator},
            {"id": "milestone-place", "property": "value", "value": place}, NOTES])
        assert answer.status_code == 200, (indicator, place)
    for click in [None, {"points": []}, {"points": [{"customdata": "2025-05"}]},
                  {"points": [{"customdata": ["", "1999-01"]}]}]:
        answer = callback(admin, "milestone-lineage.children", [
            {"id": "milestone-chart", "property": "clickData", "value": click},
            {"id": "milestone-indicator", "property": "value", "value": "children_enrolled"},
            {"id": "milestone-place", "property": "value", "value": "all"}])
        assert answer.status_code in (200, 204), click
    click = {"points": [{"customdata": ["", "2025-05"]}]}
    steering = callback(sign_in(server, "steering"), "milestone-lineage.children", [
        {"id": "milestone-chart", "property": "clickData", "value": click},
        {"id": "milestone-indicator", "property": "value", "value": "children_enrolled"},
        {"id": "milestone-place", "property": "value", "value": "all"}])
    assert "from 3 partners" in body(steering) and ".csv" not in body(steering)
    listed = callback(admin, "milestone-lineage.children", [
        {"id": "milestone-chart", "property": "clickData", "value": click},
        {"id": "milestone-indicator", "property": "value", "value": "children_enrolled"},
        {"id": "milestone-place", "property": "value", "value": "all"}])
    assert "brightstart_enrolment_2025-05_corrected.csv" in body(listed)
