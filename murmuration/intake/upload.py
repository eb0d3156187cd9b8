"""Files a partner sends through the portal: held for a check, then delivered to its inbox.

An upload is first *staged* (``<state>/uploads/<partner>/<token>/<name>``) and checked as
``mapping check`` would; it counts only once the partner confirms, when it is *delivered*:
written into ``inbox/<partner>/`` under its (sanitised) name, atomically (a temporary name in
the state folder, then ``os.replace``), never over another file - a second file of the same
name gets a numbered name, the same bytes again are not written twice. From there the inbox
sensor takes it like any file. Every delivery is recorded in ``<state>/uploads/deliveries.jsonl``
(who, when, what, where), so the portal can show its status until it is published.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import unicodedata
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from murmuration.intake.arrivals import record as record_arrivals
from murmuration.intake.landing import file_sha256
from murmuration.paths import ProjectPaths
from murmuration.registry.mapping import EXTENSION_FORMATS

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class UploadError(Exception):
    """An upload that cannot be taken, in words a partner can act on."""


@dataclass(frozen=True)
class Delivery:
    partner_code: str
    file_name: str
    inbox_path: str
    sha256: str
    size_bytes: int
    delivered_at: str
    delivered_by: str
    already_received: bool = False


def safe_file_name(name: str) -> str:
    """The name a file is kept under: no folders, no control or shell characters, no leading
    dots (hidden files), at most 120 characters, its extension kept."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    stem = re.sub(r"[^\w .()+,-]", "_", stem, flags=re.UNICODE).strip(" .")
    stem = re.sub(r"\s+", " ", stem)[:120] or "upload"
    extension = re.sub(r"[^A-Za-z0-9]", "", extension)[:8].lower()
    return f"{stem}.{extension}" if extension else stem


def check_upload(name: str, content: bytes) -> str:
    """The sanitised name, or UploadError when the file cannot be taken at all."""
    safe = safe_file_name(name)
    suffix = Path(safe).suffix.lower()
    if suffix not in EXTENSION_FORMATS:
        raise UploadError(f"files ending in '{suffix or '(no extension)'}' are not read; send "
                          f"{', '.join(sorted(EXTENSION_FORMATS))}")
    if not content:
        raise UploadError("the file is empty")
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadError(f"the file is {len(content) / 1048576:.1f} MB; the limit is "
                          f"{MAX_UPLOAD_BYTES // 1048576} MB (split it by period)")
    return safe


def uploads_dir(paths: ProjectPaths) -> Path:
    return paths.state_dir / "uploads"


def stage(paths: ProjectPaths, partner_code: str, name: str, content: bytes) -> tuple[str, Path]:
    """Hold an upload for its check. Returns (token, staged file)."""
    safe = check_upload(name, content)
    token = secrets.token_urlsafe(18)
    folder = uploads_dir(paths) / partner_code / token
    folder.mkdir(parents=True)
    staged = folder / safe
    staged.write_bytes(content)
    return token, staged


def staged_file(paths: ProjectPaths, partner_code: str, token: str) -> Path:
    """The file staged under ``token`` for this partner (a token of another partner is not
    found: tokens are looked up only inside the partner's own folder)."""
    if not TOKEN.match(token or ""):
        raise UploadError("this upload is not known; upload the file again")
    folder = uploads_dir(paths) / partner_code / token
    files = [p for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    if len(files) != 1:
        raise UploadError("this upload is not known (or was already sent); upload the file "
                          "again")
    return files[0]


def deliver(paths: ProjectPaths, partner_code: str, token: str, user: str) -> Delivery:
    """Move a staged upload into the partner's inbox folder and record it."""
    staged = staged_file(paths, partner_code, token)
    sha = file_sha256(staged)
    inbox = paths.inbox_dir / partner_code
    inbox.mkdir(parents=True, exist_ok=True)
    target = inbox / staged.name
    number = 1
    already = False
    while target.exists():
        if target.is_file() and file_sha256(target) == sha:
            already = True
            break
        number += 1
        target = inbox / f"{staged.stem} ({number}){staged.suffix}"
    delivered_at = datetime.now(UTC)
    if not already:
        temporary = uploads_dir(paths) / f".delivering-{token}"
        shutil.copyfile(staged, temporary)
        try:
            os.replace(temporary, target)  # the inbox sees the whole file or none of it
        except OSError:  # another file system: copy beside it, then rename there
            beside = inbox / f".{target.name}.{token}.part"
            shutil.move(temporary, beside)
            os.replace(beside, target)
        # Arrival is when the partner sent it, whatever the copy's own timestamps say.
        record_arrivals(paths, [target], "portal", delivered_at)
    delivery = Delivery(partner_code, target.name, str(target.relative_to(paths.project_dir))
                        if target.is_relative_to(paths.project_dir) else str(target), sha,
                        staged.stat().st_size,
                        delivered_at.isoformat(timespec="seconds"), user, already)
    shutil.rmtree(staged.parent, ignore_errors=True)
    with (uploads_dir(paths) / "deliveries.jsonl").open("a", encoding="utf-8") as log:
        log.write(json.dumps(asdict(delivery)) + "\n")
    return delivery


def deliveries(paths: ProjectPaths, partner_code: str | None = None) -> list[Delivery]:
    """Files delivered through the portal, newest first (one partner's, or all)."""
    log = uploads_dir(paths) / "deliveries.jsonl"
    if not log.exists():
        return []
    found = []
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            delivery = Delivery(**json.loads(line))
        except (ValueError, TypeError):
            continue
        if partner_code is None or delivery.partner_code == partner_code:
            found.append(delivery)
    return sorted(found, key=lambda d: d.delivered_at, reverse=True)
