"""The place hierarchy: each place's parent, depth and level, checked as the registry loads.

A place tree as DHIS2 keeps organisation units and OCHA's Common Operational Datasets keep admin
units: every place may have a parent one level up; the whole area (``all``) is above every
top-level place. Totals exist at every level (docs/registry.md, "Places and levels").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from murmuration.registry.models import WHOLE_AREA, Dimensions, Place


@dataclass
class PlaceTree:
    """Each place's chain of ancestors, its depth (1 = a top-level place) and level."""

    places: dict[str, Place]
    parent: dict[str, str | None]
    depth: dict[str, int]
    level_code: dict[str, str | None]
    level_name: dict[str, str | None]
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # place index, field, text

    def ancestors(self, code: str) -> list[str]:
        """The place's parents up to the top level, nearest first (not the whole area)."""
        chain, seen = [], {code}
        current = self.parent.get(code)
        while current is not None and current not in seen:
            chain.append(current)
            seen.add(current)
            current = self.parent.get(current)
        return chain

    @property
    def has_levels(self) -> bool:
        return any(self.parent.values()) or any(self.level_code.values())


def build_place_tree(dimensions: Dimensions) -> PlaceTree:
    """The tree of ``dimensions.places`` with every problem found (unknown parent, a cycle, a
    place at a level its parent does not allow, a level used at two depths)."""
    places = {p.code: p for p in dimensions.places}
    by_lower = {p.code.lower(): p.code for p in dimensions.places}
    problems: list[tuple[int, str, str]] = []
    parent: dict[str, str | None] = {}
    unknown_parent: set[str] = set()
    for n, place in enumerate(dimensions.places):
        if place.parent is None:
            parent[place.code] = None
        elif place.parent.lower() == WHOLE_AREA:
            parent[place.code] = None  # written out: under the whole area
        elif place.parent.lower() in by_lower:
            parent[place.code] = by_lower[place.parent.lower()]
        else:
            parent[place.code] = None
            unknown_parent.add(place.code)
            problems.append((n, "parent", f"parent {place.parent!r} is not a place code"))
    index = {p.code: n for n, p in enumerate(dimensions.places)}
    depth: dict[str, int] = {}
    for code in places:
        chain, current = [code], parent[code]
        while current is not None and current not in chain:
            chain.append(current)
            current = parent[current]
        if current is not None:  # the chain came back to itself: a cycle
            cycle = chain[chain.index(current):] + [current]
            if code == min(cycle[:-1], key=lambda c: index[c]):  # reported once, at its first
                problems.append((index[code], "parent", "places form a cycle: "
                                 + " -> ".join(cycle) + " (a place cannot be its own ancestor)"))
            depth[code] = 1  # the registry is refused; any depth will do meanwhile
            continue
        depth[code] = len(chain)
    declared = {lv.code: k for k, lv in enumerate(dimensions.levels)}
    names = {lv.code: lv.name for lv in dimensions.levels}
    level_code = {p.code: p.level for p in dimensions.places}
    if declared:
        for n, place in enumerate(dimensions.places):
            if place.level is None:
                problems.append((n, "level", "give the place's level (one of "
                                 + ", ".join(declared) + ")"))
                continue
            if place.level not in declared:
                problems.append((n, "level", f"level {place.level!r} is not in levels (known: "
                                 + ", ".join(declared) + ")"))
                continue
            position = declared[place.level]
            up = parent[place.code]
            if place.code in unknown_parent:
                continue
            expected = dimensions.levels[position - 1].code if position else None
            found = places[up].level if up else None
            if position == 0 and up is not None:
                problems.append((n, "parent", f"{place.code!r} is at the top level "
                                 f"({place.level}) but has the parent {up!r}"))
            elif position > 0 and up is None:
                problems.append((n, "parent", f"{place.code!r} is at level {place.level}: "
                                 f"give its parent, a place at level {expected}"))
            elif position > 0 and found != expected:
                problems.append((n, "level", f"{place.code!r} is at level {place.level} but "
                                 f"its parent {up!r} is at level {found}; a {place.level}'s "
                                 f"parent is a {expected} (a place is at one level only)"))
    else:
        depth_of_level: dict[str, tuple[int, str]] = {}
        for n, place in enumerate(dimensions.places):
            if place.level is None:
                continue
            seen = depth_of_level.setdefault(place.level, (depth[place.code], place.code))
            if seen[0] != depth[place.code]:
                problems.append((n, "level", f"level {place.level!r} is at depth "
                                 f"{depth[place.code]} here ({place.code!r}) and at depth "
                                 f"{seen[0]} for {seen[1]!r}: a level is one step of the "
                                 "hierarchy (list the levels under levels:)"))
        for level in depth_of_level:
            names.setdefault(level, level.replace("_", " ").capitalize())
    level_name = {code: names.get(level) if level else None
                  for code, level in level_code.items()}
    return PlaceTree(places, parent, depth, level_code, level_name, problems)
