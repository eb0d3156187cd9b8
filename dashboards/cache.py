"""Views cached per published snapshot and per what the viewer may see.

A published snapshot never changes (the pipeline swaps in a new file), so a page or callback
built from it can be kept until the next one: a repeat view costs a dictionary lookup and the
JSON of the answer. The key holds everything the view depends on: the snapshot, the viewer's
scope (role, partners, working groups) and the view's own inputs (plus anything outside the
snapshot it reads, such as the learning log's version)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from dashboards import queries

ENTRIES = 256
_VIEWS: OrderedDict[tuple, Any] = OrderedDict()
_LOCK = threading.Lock()
_BUILDING: dict[tuple, threading.Lock] = {}


def scope_of(user) -> tuple:
    """What the user may see, as a key: two users with the same scope see the same views."""
    return (str(user.role), user.partner_scope(), user.scorecard_scope(),
            user.indicator_groups())


def cached_view(name: str, key: tuple, build: Callable[[], Any]) -> Any:
    """``build()``'s answer for this snapshot and key, built once. Views are returned as
    built: callers must not change them (Dash only serialises them)."""
    full = (name, queries.snapshot_key(), key)
    with _LOCK:
        if full in _VIEWS:
            _VIEWS.move_to_end(full)
            return _VIEWS[full]
        # One build per view: when a new snapshot lands, the requests asking for the same view
        # wait for the first one's answer instead of all building it at once.
        building = _BUILDING.setdefault(full, threading.Lock())
    with building:
        with _LOCK:
            if full in _VIEWS:
                return _VIEWS[full]
        try:
            view = build()
            with _LOCK:
                _VIEWS[full] = view
                while len(_VIEWS) > ENTRIES:
                    _VIEWS.popitem(last=False)
        finally:
            with _LOCK:
                _BUILDING.pop(full, None)
    return view
