"""The learning log: dated notes on an indicator (optionally at a place) or on the whole
initiative ("enrolment drive started in Eastfield"), shown as markers on the charts.

Notes are what people write, not what the pipeline computes, so they live outside the warehouse:
a small SQLite file in the initiative's state folder (``ProjectPaths.learning_log``), which a
pipeline run never opens. Every call opens its own connection (WAL, a busy timeout) and closes
it, so the dashboard's threads and the command line can write at the same time.

Who may read and write which note is decided by ``murmuration.access.User`` (``may_read_note``,
``may_write_note``, ``may_remove_note``); this module asks it on every call.
"""

from __future__ import annotations

import os
import sqlite3
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from murmuration.access import User
from murmuration.paths import ProjectPaths
from murmuration.registry.models import WHOLE_AREA

MAX_TEXT = 1000
BUSY_TIMEOUT_SECONDS = 30
SCHEMA_VERSION = 1
# Direction overrides and isolates: they make text read differently from what it holds.
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}

_SCHEMA = """
create table if not exists notes (
    id integer primary key autoincrement,
    noted_on text not null,
    indicator_code text,
    place_code text,
    text text not null,
    author text not null,
    author_role text not null,
    created_at text not null
);
create index if not exists notes_by_indicator on notes (indicator_code, noted_on);
"""


class NoteError(ValueError):
    """A note or a request about notes that cannot be carried out, in one line."""


class NoteNotAllowed(NoteError):
    """The user's role does not allow this on this note."""


@dataclass(frozen=True)
class Note:
    id: int
    noted_on: date
    indicator_code: str | None  # None: the whole initiative
    place_code: str | None  # None: all places
    text: str
    author: str
    author_role: str
    created_at: datetime  # UTC

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Note:
        return cls(id=row["id"], noted_on=date.fromisoformat(row["noted_on"]),
                   indicator_code=row["indicator_code"], place_code=row["place_code"],
                   text=row["text"], author=row["author"], author_role=row["author_role"],
                   created_at=datetime.fromisoformat(row["created_at"]))


@dataclass(frozen=True)
class NoteCodes:
    """What notes are checked against: indicator code -> its working group, and the places."""

    indicators: Mapping[str, str]
    places: frozenset[str]

    @classmethod
    def from_registry(cls, registry) -> NoteCodes:
        return cls(indicators={i.code: i.working_group for i in registry.catalogue.indicators},
                   places=frozenset(p.code for p in registry.dimensions.places))

    def indicator(self, code) -> str | None:
        """The indicator code, checked (None or '' for the whole initiative)."""
        if code is None or code == "":
            return None
        if not isinstance(code, str) or code not in self.indicators:
            raise NoteError(f"no indicator '{code}' in registry/indicators.yaml (known: "
                            f"{', '.join(sorted(self.indicators))})")
        return code

    def place(self, code) -> str | None:
        """The place code, checked (None, '' or the whole area for all places)."""
        if code is None or code == "" or code == WHOLE_AREA:
            return None
        if not isinstance(code, str) or code not in self.places:
            raise NoteError(f"no place '{code}' in registry/dimensions.yaml (known: "
                            f"{', '.join(sorted(self.places))})")
        return code

    def working_group(self, indicator_code: str | None) -> str | None:
        return None if indicator_code is None else self.indicators.get(indicator_code)


def parse_day(value, what: str = "the date") -> date:
    """An ISO date (2026-11-15), as a date; anything else a NoteError."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    if value is None or value == "":
        raise NoteError(f"{what} is missing: write it as YYYY-MM-DD")
    if not isinstance(value, str):
        raise NoteError(f"{what} is not a date: write it as YYYY-MM-DD")
    raise NoteError(f"{what} '{value}' is not a date: write it as YYYY-MM-DD")


def clean_text(text) -> str:
    """A note's text, stripped: 1 to MAX_TEXT characters, no control characters."""
    if not isinstance(text, str):
        raise NoteError("the note must be text")
    text = text.strip()
    if not text:
        raise NoteError("the note is empty: write what happened")
    if len(text) > MAX_TEXT:
        raise NoteError(f"the note is {len(text)} characters long: keep it to {MAX_TEXT}")
    bad = next((c for c in text if unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS),
               None)
    if bad is not None:
        what = "a line break" if bad in "\r\n" else f"a control character (U+{ord(bad):04X})"
        raise NoteError(f"the note contains {what}: write it as one line of plain text")
    return text


class LearningLog:
    """The learning log of one initiative.

    ``codes`` are the registry's indicator and place codes; by default they are read with
    ``load_registry(paths)`` when first needed (the dashboard passes its own, cached)."""

    def __init__(self, path: str | os.PathLike, codes: NoteCodes | None = None,
                 paths: ProjectPaths | None = None):
        self.path = Path(path)
        self._codes = codes
        self._paths = paths

    @classmethod
    def for_project(cls, paths: ProjectPaths, codes: NoteCodes | None = None) -> LearningLog:
        return cls(paths.learning_log, codes, paths)

    @property
    def codes(self) -> NoteCodes:
        if self._codes is None:
            if self._paths is None:
                raise NoteError("the learning log needs the registry's codes")
            from murmuration.registry import load_registry

            self._codes = NoteCodes.from_registry(load_registry(self._paths))
        return self._codes

    # Storage ---------------------------------------------------------------------------------
    @contextmanager
    def _connect(self, write: bool) -> Iterator[sqlite3.Connection | None]:
        """One connection for one call. Reading a log that does not exist yet gives None
        (nothing is created until the first note)."""
        if not self.path.exists():
            if not write:
                yield None
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:  # private, like the users file: notes name their authors
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                pass
        con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        with closing(con):
            con.row_factory = sqlite3.Row
            con.execute(f"pragma busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
            if write:
                con.execute("pragma synchronous = normal")
                if con.execute("pragma user_version").fetchone()[0] < SCHEMA_VERSION:
                    con.execute("pragma journal_mode = wal")  # kept in the file from now on
                    con.execute("begin immediate")  # two first writers: one waits
                    for statement in filter(str.strip, _SCHEMA.split(";")):
                        con.execute(statement)
                    con.execute(f"pragma user_version = {SCHEMA_VERSION}")
                    con.execute("commit")
            elif con.execute("pragma user_version").fetchone()[0] < SCHEMA_VERSION:
                yield None  # created by a writer that has not finished its schema yet
                return
            yield con

    # What people do --------------------------------------------------------------------------
    def add(self, user: User, noted_on, text, indicator_code: str | None = None,
            place_code: str | None = None) -> Note:
        """A new note by ``user`` about ``noted_on`` (an ISO date) on an indicator (None: the
        whole initiative), at a place (None: all places)."""
        day = parse_day(noted_on)
        body = clean_text(text)
        indicator = self.codes.indicator(indicator_code)
        place = self.codes.place(place_code)
        if not user.may_write_note(self.codes.working_group(indicator)):
            raise NoteNotAllowed(_not_allowed_to_write(user, indicator))
        created = datetime.now(UTC).replace(microsecond=0)
        with self._connect(write=True) as con:
            cursor = con.execute(
                "insert into notes (noted_on, indicator_code, place_code, text, author, "
                "author_role, created_at) values (?, ?, ?, ?, ?, ?, ?)",
                (day.isoformat(), indicator, place, body, user.username, user.role.value,
                 created.isoformat()))
            note_id = cursor.lastrowid
        return Note(id=note_id, noted_on=day, indicator_code=indicator, place_code=place,
                    text=body, author=user.username, author_role=user.role.value,
                    created_at=created)

    def list(self, indicator_code: str | None = None, place_code: str | None = None,
             start=None, end=None, *, user: User | None = None,
             initiative_notes: bool = True) -> list[Note]:
        """Notes, newest first. ``indicator_code``: that indicator's notes (and, with
        ``initiative_notes``, the whole initiative's); ``place_code``: that place's notes and
        those on all places (None or the whole area: every place); ``start``/``end``: the dates
        noted on, inclusive; ``user``: only the notes this user may read."""
        indicator = self.codes.indicator(indicator_code)
        place = self.codes.place(place_code)
        first = parse_day(start, "the first date") if start not in (None, "") else None
        last = parse_day(end, "the last date") if end not in (None, "") else None
        if first and last and first > last:
            raise NoteError(f"the first date ({first}) is after the last ({last})")
        if user is not None and not user.may_read_notes:
            raise NoteNotAllowed("partners do not see the learning log")
        where, parameters = ["1 = 1"], []
        if indicator is not None:
            where.append("(indicator_code = ?" + (" or indicator_code is null)"
                                                  if initiative_notes else ")"))
            parameters.append(indicator)
        if place is not None:
            where.append("(place_code = ? or place_code is null)")
            parameters.append(place)
        if first:
            where.append("noted_on >= ?")
            parameters.append(first.isoformat())
        if last:
            where.append("noted_on <= ?")
            parameters.append(last.isoformat())
        with self._connect(write=False) as con:
            if con is None:
                return []
            rows = con.execute(f"select * from notes where {' and '.join(where)} "
                               "order by noted_on desc, created_at desc, id desc",
                               parameters).fetchall()
        notes = [Note.from_row(row) for row in rows]
        if user is not None:
            notes = [n for n in notes if self.may_read(user, n)]
        return notes

    def get(self, note_id: int) -> Note | None:
        with self._connect(write=False) as con:
            if con is None:
                return None
            row = con.execute("select * from notes where id = ?", (note_id,)).fetchone()
        return Note.from_row(row) if row else None

    def remove(self, user: User, note_id) -> Note:
        """Remove a note: its author or the backbone's data team."""
        try:
            number = int(note_id)
        except (TypeError, ValueError):
            raise NoteError(f"'{note_id}' is not a note number") from None
        note = self.get(number)
        if note is None:
            raise NoteError(f"no note {number} in the learning log")
        if not user.may_remove_note(note.author):
            raise NoteNotAllowed(f"note {number} is by {note.author}: only its author or the "
                                 "backbone's data team (admin) may remove it")
        with self._connect(write=True) as con:
            con.execute("delete from notes where id = ?", (number,))
        return note

    def may_read(self, user: User, note: Note) -> bool:
        if note.indicator_code is None:
            return user.may_read_note(None)
        group = self.codes.working_group(note.indicator_code)
        # An indicator since removed from the registry: only who sees every indicator.
        return user.may_read_note(group) if group is not None else \
            user.may_read_notes and user.indicator_groups() is None

    def may_write(self, user: User, indicator_code: str | None) -> bool:
        """Whether ``user`` may add a note on this indicator (None: the whole initiative)."""
        try:
            indicator = self.codes.indicator(indicator_code)
        except NoteError:
            return False
        return user.may_write_note(self.codes.working_group(indicator))


def _not_allowed_to_write(user: User, indicator_code: str | None) -> str:
    if not user.may_write_notes:
        return "partners do not write in the learning log"
    if indicator_code is None:
        return ("only the steering committee and the backbone's data team write notes on the "
                "whole initiative")
    return (f"{user.username} may write notes only on the indicators of their working groups "
            f"({', '.join(user.working_groups)}), not on {indicator_code}")
