"""Who may see what: the initiative's users, their roles, and the scope each role gives.

Users live in ``users.yaml`` in the initiative folder, managed with ``murmuration users``.
Passwords are kept only as salted hashes (werkzeug's scrypt); the file is written with mode
0600 and never holds a password in clear.

Roles (the audiences of a shared measurement system):

* ``admin``: the backbone's data team. Everything, the Dagster UI included.
* ``steering``: every published indicator and every partner's scorecard; no partner's rows,
  files or feedback pack.
* ``working_group``: bound to one or more working groups: their indicators in full (charts by
  place), the others only as the overview shows them; scorecards as the steering committee.
* ``partner``: bound to one partner code: its own submissions, quarantined rows, flags,
  scorecard and feedback pack, the partner portal, and the published shared totals; never
  another partner's rows, files or pack.

The dashboard asks a ``User`` what it may see; the queries take the scope it gives, so a
request for what a role may not see returns nothing whatever the browser sends.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

import yaml
from werkzeug.security import check_password_hash, generate_password_hash

from murmuration.files import write_text_atomic

USERS_FILE = "users.yaml"
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")
MIN_PASSWORD = 10
# A hash to compare against when the user does not exist, so timing does not tell.
_DUMMY_HASH = generate_password_hash("not a password of anyone")


class Role(StrEnum):
    ADMIN = "admin"
    STEERING = "steering"
    WORKING_GROUP = "working_group"
    PARTNER = "partner"


ROLE_LABELS = {Role.ADMIN: "Backbone data team", Role.STEERING: "Steering committee",
               Role.WORKING_GROUP: "Working group", Role.PARTNER: "Partner"}


class UsersError(Exception):
    """A users file or a users command that cannot be carried out, in words."""


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    password_hash: str = field(repr=False)
    name: str = ""
    partners: tuple[str, ...] = ()
    working_groups: tuple[str, ...] = ()

    @property
    def display_name(self) -> str:
        return self.name or self.username

    @property
    def session_id(self) -> str:
        """What a session remembers: the name and a digest of the password hash, so changing
        the password or removing the user ends every session of that user."""
        digest = hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]
        return f"{self.username}|{digest}"

    # What the role may see -------------------------------------------------------------------
    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def partner_scope(self) -> tuple[str, ...] | None:
        """Partners whose rows, files, flags and packs this user may see (None: all)."""
        if self.role is Role.ADMIN:
            return None
        if self.role is Role.PARTNER:
            return self.partners
        return ()

    def may_see_partner_rows(self, partner_code: str | None) -> bool:
        scope = self.partner_scope()
        return partner_code is not None and (scope is None or partner_code in scope)

    def scorecard_scope(self) -> tuple[str, ...] | None:
        """Partners whose scorecard (aggregate quality, no rows) this user may see."""
        return self.partners if self.role is Role.PARTNER else None

    def may_see_scorecard(self, partner_code: str | None) -> bool:
        scope = self.scorecard_scope()
        return partner_code is not None and (scope is None or partner_code in scope)

    def indicator_groups(self) -> tuple[str, ...] | None:
        """Working groups whose indicators this user sees in full (None: all)."""
        return self.working_groups if self.role is Role.WORKING_GROUP else None

    def may_see_indicator(self, working_group_code: str | None) -> bool:
        groups = self.indicator_groups()
        return groups is None or working_group_code in groups

    @property
    def may_upload(self) -> bool:
        return self.role in (Role.ADMIN, Role.PARTNER)

    # The learning log: dated notes on an indicator (working_group_code: its working group) or
    # on the whole initiative (working_group_code None). Partners neither read nor write them.
    @property
    def may_read_notes(self) -> bool:
        return self.role is not Role.PARTNER

    def may_read_note(self, working_group_code: str | None) -> bool:
        """A whole-initiative note, or a note on an indicator this user sees in full."""
        if not self.may_read_notes:
            return False
        return working_group_code is None or self.may_see_indicator(working_group_code)

    def may_write_note(self, working_group_code: str | None) -> bool:
        """Admin and steering: on any indicator and on the whole initiative; a working group
        member: only on its own groups' indicators."""
        if self.role in (Role.ADMIN, Role.STEERING):
            return True
        if self.role is Role.WORKING_GROUP:
            return working_group_code is not None and working_group_code in self.working_groups
        return False

    @property
    def may_write_initiative_notes(self) -> bool:
        return self.may_write_note(None)

    @property
    def may_write_notes(self) -> bool:
        """Whether this user may write any note at all (shows the form)."""
        return self.role is not Role.PARTNER

    def may_remove_note(self, author: str) -> bool:
        """Its author (while not a partner) or the backbone's data team."""
        return self.is_admin or (self.role is not Role.PARTNER
                                 and author.lower() == self.username.lower())

    def to_yaml(self) -> dict:
        document: dict = {"username": self.username, "role": self.role.value}
        if self.name:
            document["name"] = self.name
        if self.partners:
            document["partners"] = list(self.partners)
        if self.working_groups:
            document["working_groups"] = list(self.working_groups)
        document["password_hash"] = self.password_hash
        return document


def check_password_strength(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UsersError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    if password.lower() == username.lower():
        raise UsersError("the password must not be the user name")


def new_password() -> str:
    return secrets.token_urlsafe(12)


_PARSED: dict[str, tuple[tuple, dict[str, User]]] = {}


class UserStore:
    """The users file of one initiative. Read on every lookup, so a change made with
    ``murmuration users`` takes effect at the next request without a restart."""

    def __init__(self, project_dir: Path, partner_codes: set[str] | None = None,
                 working_group_codes: set[str] | None = None):
        self.path = Path(project_dir) / USERS_FILE
        self.partner_codes = partner_codes
        self.working_group_codes = working_group_codes

    @classmethod
    def for_registry(cls, project_dir: Path, registry) -> UserStore:
        return cls(project_dir, {p.code for p in registry.partners},
                   {g.code for g in registry.catalogue.working_groups})

    def exists(self) -> bool:
        return self.path.exists() and bool(self.users())

    def users(self) -> dict[str, User]:
        """Every user, read from the file; parsed again only when the file changed (it is
        replaced atomically on every change, so its inode, time and size tell)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {}
        key = (str(self.path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
        cached = _PARSED.get(str(self.path))
        if cached is not None and cached[0] == key:
            return dict(cached[1])
        users = self._parse()
        _PARSED[str(self.path)] = (key, users)
        return dict(users)

    def _parse(self) -> dict[str, User]:
        try:
            document = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            raise UsersError(f"{self.path}: not valid YAML ({error})") from error
        users: dict[str, User] = {}
        for number, entry in enumerate(document.get("users") or [], start=1):
            try:
                user = User(username=str(entry["username"]), role=Role(entry["role"]),
                            password_hash=str(entry["password_hash"]),
                            name=str(entry.get("name") or ""),
                            partners=tuple(entry.get("partners") or ()),
                            working_groups=tuple(entry.get("working_groups") or ()))
            except (KeyError, ValueError, TypeError) as error:
                raise UsersError(f"{self.path}: user {number} is incomplete or has an unknown "
                                 f"role ({error}); roles: "
                                 f"{', '.join(r.value for r in Role)}") from error
            users[user.username.lower()] = user
        return users

    def get(self, username: str) -> User | None:
        return self.users().get(username.strip().lower())

    def authenticate(self, username: str, password: str) -> User | None:
        user = self.get(username)
        if user is None:
            check_password_hash(_DUMMY_HASH, password)
            return None
        return user if check_password_hash(user.password_hash, password) else None

    def _validate(self, user: User) -> None:
        if not USERNAME.match(user.username):
            raise UsersError(f"'{user.username}' is not a usable user name: 2-64 letters, "
                             "digits, '.', '_', '-' or '@'")
        if user.role is Role.PARTNER:
            if len(user.partners) != 1:
                raise UsersError("a partner user is bound to exactly one partner: give "
                                 "--partner CODE")
        elif user.partners:
            raise UsersError("only partner users are bound to a partner")
        if user.role is Role.WORKING_GROUP:
            if not user.working_groups:
                raise UsersError("a working group member is bound to one or more working "
                                 "groups: give --working-group CODE")
        elif user.working_groups:
            raise UsersError("only working group members are bound to working groups")
        unknown = [c for c in user.partners
                   if self.partner_codes is not None and c not in self.partner_codes]
        if unknown:
            raise UsersError(f"no partner with code {', '.join(unknown)} in registry/"
                             f"partners.yaml (known: {', '.join(sorted(self.partner_codes))})")
        unknown = [c for c in user.working_groups if self.working_group_codes is not None
                   and c not in self.working_group_codes]
        if unknown:
            raise UsersError(f"no working group {', '.join(unknown)} in registry/"
                             f"indicators.yaml (known: "
                             f"{', '.join(sorted(self.working_group_codes))})")

    def _write(self, users: dict[str, User]) -> None:
        text = ("# Murmuration users (murmuration users add|remove|passwd|list).\n"
                "# Passwords are salted scrypt hashes; this file is private (mode 0600).\n"
                + yaml.safe_dump({"users": [u.to_yaml() for u in users.values()]},
                                 sort_keys=False, allow_unicode=True))
        write_text_atomic(self.path, text, private=True)

    def add(self, username: str, role: str, password: str, *, name: str = "",
            partners: list[str] | None = None, working_groups: list[str] | None = None) -> User:
        users = self.users()
        if username.lower() in users:
            raise UsersError(f"user '{username}' already exists (change its password with "
                             "`murmuration users passwd`)")
        try:
            role_value = Role(role)
        except ValueError:
            raise UsersError(f"unknown role '{role}'; roles: "
                             f"{', '.join(r.value for r in Role)}") from None
        check_password_strength(password, username)
        user = User(username=username, role=role_value, name=name,
                    password_hash=generate_password_hash(password),
                    partners=tuple(partners or ()), working_groups=tuple(working_groups or ()))
        self._validate(user)
        users[username.lower()] = user
        self._write(users)
        return user

    def remove(self, username: str) -> None:
        users = self.users()
        if users.pop(username.lower(), None) is None:
            raise UsersError(f"no user '{username}'")
        self._write(users)

    def set_password(self, username: str, password: str) -> None:
        users = self.users()
        user = users.get(username.lower())
        if user is None:
            raise UsersError(f"no user '{username}'")
        check_password_strength(password, username)
        users[username.lower()] = replace(user, password_hash=generate_password_hash(password))
        self._write(users)


DEMO_FILE = "demo-users.txt"


def ensure_demo_users(store: UserStore, registry, state_dir: Path) -> list[str]:
    """For `murmuration demo`: one user per role (a generated password each), kept in the
    sample's users file and listed in ``<state>/demo-users.txt`` (mode 0600). Returns the
    lines that say how to sign in."""
    listing = Path(state_dir) / DEMO_FILE
    if not store.exists():
        partner = registry.partners[0]
        group = registry.catalogue.working_groups[0]
        people = [("admin", Role.ADMIN, "Backbone data team", {}),
                  ("steering", Role.STEERING, "Steering committee member", {}),
                  (f"wg-{group.code}".replace("_", "-"), Role.WORKING_GROUP,
                   f"{group.name} member", {"working_groups": [group.code]}),
                  (partner.code.replace("_", "-"), Role.PARTNER, partner.name,
                   {"partners": [partner.code]})]
        lines = []
        for username, role, name, bound in people:
            password = new_password()
            store.add(username, role.value, password, name=name, **bound)
            lines.append(f"  {username:<22}{password:<20}{ROLE_LABELS[role]}"
                         + (f" ({', '.join(next(iter(bound.values())))})" if bound else ""))
        listing.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(listing, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    if not listing.exists():
        return [f"Sign in with the users in {store.path} (murmuration users list)."]
    return ["Demo users (user name, password, role), also in " + str(listing) + ":",
            *listing.read_text(encoding="utf-8").splitlines()]
