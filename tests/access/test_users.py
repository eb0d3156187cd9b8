"""Users and roles: the users file, the `murmuration users` command, and `serve`'s refusal to
open a non-loopback port with no users."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from app.serve import DAGSTER_HOST, dagster_command, is_loopback, serve
from murmuration.access import Role, UsersError, UserStore
from murmuration.environment import OFFLINE
from murmuration.paths import SAMPLE_PROJECT_DIR
from tests.conftest import copy_initiative


@pytest.fixture
def project(tmp_path):
    return copy_initiative(SAMPLE_PROJECT_DIR, tmp_path / "initiative")


def users_cli(project, *args, password: str | None = None):
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "users", *args, "--project",
         str(project.project_dir), *(["--password-stdin"] if password is not None else [])],
        input=(password + "\n") if password is not None else None, capture_output=True,
        text=True, env={**os.environ, **OFFLINE}, timeout=120)


def test_users_command_adds_lists_changes_and_removes(project):
    added = users_cli(project, "add", "ana", "--role", "partner", "--partner", "brightstart",
                      "--name", "Ana at BrightStart", password="a long enough password")
    assert added.returncode == 0, added.stderr
    assert "Added ana (Partner)" in added.stdout
    users_file = project.project_dir / "users.yaml"
    text = users_file.read_text()
    assert "a long enough password" not in text and "password_hash: scrypt:" in text
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600
    listed = users_cli(project, "list")
    assert "ana" in listed.stdout and "brightstart" in listed.stdout

    store = UserStore(project.project_dir)
    assert store.authenticate("ana", "a long enough password").role is Role.PARTNER
    assert store.authenticate("ANA ", "a long enough password") is not None
    assert store.authenticate("ana", "wrong password") is None
    assert store.authenticate("nobody", "a long enough password") is None
    before = store.get("ana").session_id
    assert users_cli(project, "passwd", "ana", password="another long password").returncode == 0
    assert store.get("ana").session_id != before
    assert store.authenticate("ana", "a long enough password") is None
    assert users_cli(project, "remove", "ana").returncode == 0
    assert store.get("ana") is None


@pytest.mark.parametrize("args, message", [
    (["bo", "--role", "partner"], "bound to exactly one partner"),
    (["bo", "--role", "partner", "--partner", "nobody_here"], "no partner with code nobody_here"),
    (["bo", "--role", "working_group"], "bound to one or more working groups"),
    (["bo", "--role", "working_group", "--working-group", "sports"], "no working group sports"),
    (["bo", "--role", "steering", "--partner", "brightstart"], "only partner users"),
    (["b o", "--role", "steering"], "not a usable user name"),
])
def test_users_command_refuses_what_cannot_work(project, args, message):
    completed = users_cli(project, "add", *args, password="a long enough password")
    assert completed.returncode == 2
    assert message in completed.stderr and "Traceback" not in completed.stderr


def test_short_passwords_and_duplicates_are_refused(project):
    store = UserStore(project.project_dir)
    with pytest.raises(UsersError, match="too short"):
        store.add("cara", "admin", "short")
    store.add("cara", "admin", "long enough password")
    with pytest.raises(UsersError, match="already exists"):
        store.add("Cara", "steering", "long enough password")


def test_generated_password_is_printed_once(project):
    completed = subprocess.run(
        [sys.executable, "-m", "app.cli", "users", "add", "dee", "--role", "steering",
         "--generate-password", "--project", str(project.project_dir)],
        capture_output=True, text=True, env={**os.environ, **OFFLINE}, timeout=120)
    assert completed.returncode == 0, completed.stderr
    password = completed.stdout.split("Password: ")[1].strip()
    assert UserStore(project.project_dir).authenticate("dee", password) is not None


def test_serve_refuses_a_network_host_without_users(project, capsys):
    assert serve(project, host="0.0.0.0") == 2
    assert "refusing to serve on 0.0.0.0 with no users" in capsys.readouterr().err


def test_dagster_ui_listens_on_loopback_whatever_the_dashboard_host():
    command = dagster_command(3000)
    assert command[command.index("-h") + 1] == DAGSTER_HOST == "127.0.0.1"
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
