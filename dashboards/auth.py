"""Sign-in for the dashboard's server: every route and callback needs a signed-in user.

flask-login keeps the session in a signed cookie (HttpOnly, SameSite=Lax; Secure when
MURMURATION_SECURE_COOKIES=1, behind HTTPS); flask-wtf's CSRF tokens guard the sign-in and
sign-out forms; Dash's callbacks only accept JSON, which no cross-site form can send. After
``MAX_FAILURES`` failed sign-ins a user name is locked for ``LOCK_SECONDS``.

What each role may see is decided by ``murmuration.access.User``; pages and callbacks ask
``viewer()`` and pass its scope to the queries.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from flask import Flask, abort, redirect, render_template_string, request
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms.validators import ValidationError

from murmuration.access import ROLE_LABELS, User, UserStore
from murmuration.paths import ProjectPaths

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
LOCK_SECONDS = 15 * 60
# Reachable without signing in: the sign-in page and its style sheet.
PUBLIC_PATHS = {"/login", "/assets/style.css"}


class NotAllowed(Exception):
    """The signed-in user may not see what a callback was asked for."""


class SessionUser(UserMixin):
    def __init__(self, user: User):
        self.user = user

    def get_id(self) -> str:
        return self.user.session_id


class Lockout:
    """Failed sign-ins per user name; a name with MAX_FAILURES in WINDOW_SECONDS is locked."""

    def __init__(self):
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def seconds_left(self, username: str) -> int:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(username.lower(), [])
                      if now - t < WINDOW_SECONDS]
            self._failures[username.lower()] = recent
            if len(recent) >= MAX_FAILURES:
                return max(1, int(recent[-1] + LOCK_SECONDS - now))
        return 0

    def failed(self, username: str) -> None:
        with self._lock:
            self._failures.setdefault(username.lower(), []).append(time.monotonic())

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(username.lower(), None)


def users() -> UserStore:
    return UserStore(ProjectPaths.from_env().project_dir)


def viewer() -> User:
    """The signed-in user of this request (the gate has already refused anyone else)."""
    if not current_user.is_authenticated:
        raise NotAllowed("not signed in")
    return current_user.user


def secret_key(paths: ProjectPaths) -> str:
    """The key that signs session cookies: MURMURATION_SECRET_KEY, else one generated once per
    initiative and kept (mode 0600) in its state folder, so sessions survive a restart."""
    explicit = os.environ.get("MURMURATION_SECRET_KEY")
    if explicit:
        return explicit
    path: Path = paths.state_dir / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in - Murmuration</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/style.css"></head>
<body><main class="signin">
<h1>Murmuration</h1>
<p class="muted">Sign in to see the initiative's shared measurement.</p>
{% if message %}<p class="signin-message" role="alert">{{ message }}</p>{% endif %}
<form method="post" action="/login">
  <input type="hidden" name="csrf_token" value="{{ csrf }}">
  <input type="hidden" name="next" value="{{ next }}">
  <label>User name <input name="username" id="username" autocomplete="username" required
    value="{{ username }}"></label>
  <label>Password <input name="password" id="password" type="password"
    autocomplete="current-password" required></label>
  <button type="submit" id="sign-in">Sign in</button>
</form>
<p class="muted">No account? Ask the backbone's data team (<code>murmuration users add</code>).</p>
</main></body></html>"""


def install(server: Flask) -> None:
    """Put the whole server behind sign-in."""
    paths = ProjectPaths.from_env()
    server.secret_key = secret_key(paths)
    server.config.update(
        SESSION_COOKIE_NAME="murmuration_session", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("MURMURATION_SECURE_COOKIES") == "1",
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12), WTF_CSRF_TIME_LIMIT=12 * 3600)
    manager = LoginManager(server)
    manager.session_protection = "basic"
    lockout = Lockout()

    @manager.user_loader
    def load(session_id: str) -> SessionUser | None:
        user = users().get(session_id.partition("|")[0])
        # A changed password or a removed user ends the session.
        return SessionUser(user) if user is not None and user.session_id == session_id else None

    @server.before_request
    def gate():
        path = request.path
        if path in PUBLIC_PATHS:
            return None
        if path.startswith("/_dash-") and request.method == "POST" and not request.is_json:
            abort(400)  # a cross-site form cannot send JSON: Dash's callbacks need no token
        if current_user.is_authenticated:
            return None
        if path.startswith(("/_dash-", "/feedback/", "/portal/")) or request.method != "GET":
            return ("Sign in first.", 401, {"Content-Type": "text/plain; charset=utf-8"})
        return redirect("/login?next=" + quote(request.full_path.rstrip("?"), safe="/"))

    def page(message: str = "", username: str = "", status: int = 200):
        return render_template_string(
            LOGIN_PAGE, csrf=generate_csrf(), message=message, username=username,
            next=_safe_next(request.values.get("next"))), status

    @server.route("/login", methods=["GET", "POST"])
    def login():
        if request.method == "GET":
            return page()
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            return page("The form had expired; please sign in again.", status=400)
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        wait = lockout.seconds_left(username)
        if wait:
            return page(f"Too many failed sign-ins for this user name; try again in "
                        f"{(wait + 59) // 60} minutes.", username, 429)
        user = users().authenticate(username, password)
        if user is None:
            lockout.failed(username)
            return page("Wrong user name or password.", username, 401)
        lockout.succeeded(username)
        login_user(SessionUser(user))
        return redirect(_safe_next(request.form.get("next")))

    @server.route("/logout", methods=["POST"])
    def logout():
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            abort(400)
        logout_user()
        return redirect("/login")


def signed_in_as() -> tuple[str, str]:
    """(name, role label) of the signed-in user, for the page header: the user name when the
    user's name is only the role's ("admin (Backbone data team)", not the role twice)."""
    user = viewer()
    role = ROLE_LABELS[user.role]
    return (user.username if user.display_name == role else user.display_name), role
