"""Fixtures for calling pages and callbacks directly on the published sample, as a given user."""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest

from app.summary import EXIT_NOT_READ


@pytest.fixture(scope="session")
def app():
    """Pages register themselves when the app is created; callbacks are then plain functions."""
    from dashboards.app import create_app

    return create_app()  # imports the pages as dashboards.pages.<name>


@pytest.fixture
def signed_in(app, sample_run, monkeypatch):
    """``with signed_in(role, partners=(), working_groups=()):`` - a request on the published
    sample by a user of that role (pages and callbacks ask who asks)."""
    # the sample plants two files that cannot be read: published, exit code 3
    assert sample_run.returncode == EXIT_NOT_READ, sample_run.stdout + sample_run.stderr
    monkeypatch.setenv("MURMURATION_SERVING", str(sample_run.paths.serving))

    @contextmanager
    def request_as(role: str, partners: tuple[str, ...] = (),
                   working_groups: tuple[str, ...] = ()):
        from flask_login import login_user

        from dashboards.auth import SessionUser
        from murmuration.access import Role, User

        user = User(role, Role(role), "hash", partners=tuple(partners),
                    working_groups=tuple(working_groups))
        with app.server.test_request_context("/"):
            login_user(SessionUser(user, "test-request"))
            yield user

    return request_as


@pytest.fixture
def published(signed_in):
    """The published sample, seen by a signed-in admin."""
    with signed_in("admin"):
        yield


@pytest.fixture(scope="module")
def server(sample_run, sample_users):
    """The dashboard's Flask server on the published sample, with the sample's users."""
    # the sample plants two files that cannot be read: published, exit code 3
    assert sample_run.returncode == EXIT_NOT_READ, sample_run.stdout + sample_run.stderr
    saved = dict(os.environ)
    os.environ.update({"MURMURATION_PROJECT_DIR": str(sample_run.paths.project_dir),
                       "MURMURATION_STATE_DIR": str(sample_run.paths.state_dir)})
    os.environ.pop("MURMURATION_SERVING", None)
    from dashboards.app import create_app

    try:
        yield create_app().server
    finally:
        os.environ.clear()
        os.environ.update(saved)
