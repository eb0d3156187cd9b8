"""Talking to the dashboard's real Flask server as a browser would: the sign-in form with its
token, pages, and Dash callbacks posted as Dash posts them."""

from __future__ import annotations

import json
import re

from tests.conftest import PASSWORD


def body(response) -> str:
    """A response's text, JSON decoded (Dash escapes '/' and '<' in its answers)."""
    if response.is_json:
        return json.dumps(response.get_json(), ensure_ascii=False)
    return response.get_data(as_text=True)


def csrf(client, path="/login") -> str:
    page = body(client.get(path))
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(server, username: str, password: str = PASSWORD):
    """A test client signed in through the real sign-in form."""
    client = server.test_client()
    response = client.post("/login", data={"csrf_token": csrf(client), "username": username,
                                           "password": password, "next": "/"})
    assert response.status_code == 302, body(response)
    return client


def callback(client, outputs: str, inputs: list[dict], state: list[dict] | None = None):
    client.get("/")  # Dash registers the pages' callbacks on its first request
    specs = [dict(zip(("id", "property"), o.split("."), strict=True))
             for o in outputs.strip(".").split("...")]
    return client.post("/_dash-update-component", json={
        "output": outputs, "outputs": specs if len(specs) > 1 else specs[0], "inputs": inputs,
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
        "state": state or []})
