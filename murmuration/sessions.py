"""Dashboard sessions kept on the server, so signing out ends a session wherever its cookie went.

The cookie carries only a random token; the server keeps a digest of it with the user it signed
in and that user's password digest (``User.session_id``) in ``<state>/sessions.sqlite3``, shared
by every worker process of the server and kept across restarts. A session ends when its user
signs out (its row is deleted: a copy of the cookie taken before is worth nothing after), when
the password changes or the user is removed (the digest no longer matches), and after
``LIFETIME`` from sign-in.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from contextlib import closing
from pathlib import Path

LIFETIME_SECONDS = 12 * 3600
FILE_NAME = "sessions.sqlite3"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    def __init__(self, state_dir: Path, lifetime: float = LIFETIME_SECONDS, clock=time.time):
        self.path = Path(state_dir) / FILE_NAME
        self.lifetime, self.clock = lifetime, clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as con, con:
            con.execute("pragma journal_mode = wal")  # kept by the file: readers never wait
            con.execute("create table if not exists sessions (token_digest text primary key, "
                        "username text not null, user_session text not null, "
                        "started real not null, client text)")
        self.path.chmod(0o600)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def start(self, username: str, user_session: str, client: str | None = None) -> str:
        """A new session for the user: its token (what the cookie carries)."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with closing(self._connect()) as con, con:
            con.execute("delete from sessions where started < ?", [now - self.lifetime])
            con.execute("insert into sessions values (?, ?, ?, ?, ?)",
                        [_digest(token), username, user_session, now, client])
        return token

    def find(self, token: str) -> tuple[str, str] | None:
        """(user name, the user's session id when it signed in) of a live session, else None."""
        with closing(self._connect()) as con:
            row = con.execute("select username, user_session, started from sessions where "
                              "token_digest = ?", [_digest(token)]).fetchone()
        if row is None or row[2] < self.clock() - self.lifetime:
            return None
        return row[0], row[1]

    def end(self, token: str) -> None:
        with closing(self._connect()) as con, con:
            con.execute("delete from sessions where token_digest = ?", [_digest(token)])

    def end_all(self, username: str) -> int:
        """Every session of one user (a password reset, a user removed): how many ended."""
        with closing(self._connect()) as con, con:
            return con.execute("delete from sessions where username = ?", [username]).rowcount
