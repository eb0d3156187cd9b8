"""Writing a file whole or not at all: the text goes to a temporary name beside it and is
swapped in with ``os.replace``, so a reader (the dashboard, the next run) never sees half of it."""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_text_atomic(path: Path, text: str, private: bool = False) -> None:
    """``private``: readable by this user only (0600), from the first byte."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                         0o600 if private else 0o666)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def write_json_atomic(path: Path, content: object, **dumps) -> None:
    write_text_atomic(path, json.dumps(content, **dumps))
