"""Sign-in for the dashboard's server: every route and callback needs a signed-in user.

flask-login keeps the session in a signed cookie (HttpOnly, SameSite=Lax; Secure when
MURMURATION_SECURE_COOKIES=1, behind HTTPS); flask-wtf's CSRF tokens guard the sign-in and
sign-out forms; Dash's callbacks only accept JSON, which no cross-site form can send. The cookie
carries only a token of a session kept on the server (murmuration.sessions): signing out ends it
wherever the cookie was copied. After ``MAX_FAILURES`` failed sign-ins a user name is locked for
``LOCK_SECONDS``, and a client address after ``MAX_CLIENT_FAILURES`` (whatever names it tries).
A request larger than ``MAX_REQUEST_BYTES`` is refused with a 413 page, unread.

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
from murmuration.intake.upload import MAX_UPLOAD_BYTES
from murmuration.paths import ProjectPaths
from murmuration.sessions import LIFETIME_SECONDS, SessionStore

MAX_FAILURES = 5  # per user name
MAX_CLIENT_FAILURES = 20  # per client address, whatever names it tries
# The largest request the server reads: a portal upload at its limit, base64 in a JSON
# callback (4/3 of it), and room for the rest of the request. Anything larger gets a 413 page.
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES * 4 // 3 + 2 * 1024 * 1024
WINDOW_SECONDS = 15 * 60
LOCK_SECONDS = 15 * 60
# Reachable without signing in: the sign-in page and its style sheet.
PUBLIC_PATHS = {"/login", "/assets/style.css"}


class NotAllowed(Exception):
    """The signed-in user may not see what a callback was asked for."""


class SessionUser(UserMixin):
    """A signed-in user and the token of its server-side session (murmuration.sessions)."""

    def __init__(self, user: User, token: str):
        self.user, self.token = user, token

    def get_id(self) -> str:
        return self.token


class Lockout:
    """Failed sign-ins counted per key ('name:<user name>', 'client:<address>'); a key with
    ``limit`` failures in WINDOW_SECONDS is locked for LOCK_SECONDS."""

    def __init__(self):
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def seconds_left(self, key: str, limit: int) -> int:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(key.lower(), [])
                      if now - t < WINDOW_SECONDS]
            self._failures[key.lower()] = recent
            if len(recent) >= limit:
                return max(1, int(recent[-1] + LOCK_SECONDS - now))
        return 0

    def failed(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.setdefault(key.lower(), []).append(time.monotonic())

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key.lower(), None)


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
    _configure(server, paths)
    sessions = SessionStore(paths.state_dir)
    manager = LoginManager(server)
    manager.session_protection = "basic"

    @manager.user_loader
    def load(token: str) -> SessionUser | None:
        found = sessions.find(token)  # ended by signing out, or past its lifetime: none
        if found is None:
            return None
        user = users().get(found[0])
        # A changed password or a removed user ends the session.
        return SessionUser(user, token) if user is not None and user.session_id == found[1] \
            else None

    server.register_error_handler(413, _too_large)
    server.before_request(_gate)
    _sign_in_routes(server, sessions, Lockout())


def _configure(server: Flask, paths: ProjectPaths) -> None:
    server.secret_key = secret_key(paths)
    server.config.update(
        SESSION_COOKIE_NAME="murmuration_session", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("MURMURATION_SECURE_COOKIES") == "1",
        REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=LIFETIME_SECONDS),
        WTF_CSRF_TIME_LIMIT=LIFETIME_SECONDS, MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES)


def _too_large(_error):
    return (f"The request is larger than this server accepts "
            f"({MAX_REQUEST_BYTES / 1048576:.0f} MB). Files are sent through the portal up "
            f"to {MAX_UPLOAD_BYTES // 1048576} MB each: split a larger file by period.\n",
            413, {"Content-Type": "text/plain; charset=utf-8"})


def _gate():
    """Every request but the sign-in page's: signed in, or sent to sign in."""
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


def _page(message: str = "", username: str = "", status: int = 200):
    return render_template_string(
        LOGIN_PAGE, csrf=generate_csrf(), message=message, username=username,
        next=_safe_next(request.values.get("next"))), status


def _sign_in_routes(server: Flask, sessions: SessionStore, lockout: Lockout) -> None:
    @server.route("/login", methods=["GET", "POST"])
    def login():
        if request.method == "GET":
            return _page()
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            return _page("The form had expired; please sign in again.", status=400)
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        client = f"client:{request.remote_addr or 'unknown'}"
        for key, limit, whose in ((client, MAX_CLIENT_FAILURES, "from this address"),
                                  (f"name:{username}", MAX_FAILURES, "for this user name")):
            wait = lockout.seconds_left(key, limit)
            if wait:
                return _page(f"Too many failed sign-ins {whose}; try again in "
                             f"{(wait + 59) // 60} minutes.", username, 429)
        user = users().authenticate(username, password)
        if user is None:
            lockout.failed(client, f"name:{username}")
            return _page("Wrong user name or password.", username, 401)
        lockout.succeeded(f"name:{username}")  # a client's count runs its window out
        token = sessions.start(user.username, user.session_id, request.remote_addr)
        login_user(SessionUser(user, token))
        return redirect(_safe_next(request.form.get("next")))

    @server.route("/logout", methods=["POST"])
    def logout():
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            abort(400)
        if current_user.is_authenticated:
            sessions.end(current_user.token)  # a copy of the cookie is worth nothing now
        logout_user()
        return redirect("/login")


def signed_in_as() -> tuple[str, str]:
    """(name, role label) of the signed-in user, for the page header: the user name when the
    user's name is only the role's ("admin (Backbone data team)", not the role twice)."""
    user = viewer()
    role = ROLE_LABELS[user.role]
    return (user.username if user.display_name == role else user.display_name), role
