"""``murmuration places import``: a place hierarchy from the lists the field already keeps.

* An OCHA Common Operational Dataset (COD) table of admin units, CSV or Excel: one row per
  lowest unit with its P-code and name at every level (``admin1Pcode, admin1Name_en,
  admin2Pcode, ...`` or ``ADM1_PCODE, ADM1_EN, ...``; other languages' names and alternative
  names become aliases).
* A DHIS2 ``organisationUnits`` export (JSON: ``id``, ``name``, ``code``, ``level``, ``parent``
  or ``path``), with its ``organisationUnitLevels`` (in the same file or another one given)
  naming the levels.

A single top unit (admin 0, or DHIS2's level 1) is the initiative's whole area: its name and
codes become the whole area's aliases. The result replaces the places of
``registry/dimensions.yaml`` (comments, disaggregations and other keys kept; aliases added by
hand to a place of the same code kept too).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from murmuration.registry.loader import normalise
from murmuration.registry.models import PLACE_CODE_PATTERN, WHOLE_AREA

COD_PCODE = re.compile(r"^adm(?:in)?(\d)pcode$")
# admin2Name_en, ADM2_EN, ADM2_FR, admin2AltName1_en, ADM2ALT1EN (alternative names: aliases)
COD_NAME = re.compile(r"^adm(?:in)?(\d)(alt(?:name)?\d*|name)?([a-z]{2})?$")
PREFERRED_LANGUAGE = "en"


class PlaceImportError(Exception):
    """The file is not a list of places this importer knows; the message says what it looked
    for."""


@dataclass
class ImportedPlace:
    code: str
    name: str
    level: str
    parent: str | None
    aliases: list[str] = field(default_factory=list)


@dataclass
class ImportedPlaces:
    source: str
    levels: list[tuple[str, str]]  # (code, name), top to bottom below the whole area
    places: list[ImportedPlace]
    whole_area_name: str | None = None
    whole_area_aliases: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_places(files: list[Path], level_names: list[str] | None = None) -> ImportedPlaces:
    """The hierarchy in ``files`` (a COD table, or DHIS2 organisation units and levels)."""
    documents = []
    for path in files:
        if path.suffix.lower() == ".json":
            try:
                documents.append((path, json.loads(path.read_text(encoding="utf-8-sig"))))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
                raise PlaceImportError(f"{path.name} is not valid JSON ({error})") from None
    if documents:
        return _from_dhis2(documents, level_names)
    if len(files) != 1:
        raise PlaceImportError("give one COD table (CSV or Excel), or DHIS2 JSON files")
    return _from_cod(files[0], level_names)


# --- OCHA Common Operational Datasets -------------------------------------------------------

def _table(path: Path) -> tuple[list[str], list[list[str]]]:
    """A CSV's or an Excel sheet's header and rows as text (the sheet with most admin
    columns)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
        import fastexcel

        try:
            workbook = fastexcel.read_excel(str(path))
        except Exception as error:  # noqa: BLE001 - the reader's own words, for the user
            raise PlaceImportError(f"{path.name} could not be read as a workbook ({error})") \
                from None
        best: tuple[int, list[str], list[list[str]]] | None = None
        for name in workbook.sheet_names:
            frame = workbook.load_sheet_by_name(name, header_row=None).to_pandas()
            rows = [["" if value is None or value != value else str(value) for value in row]
                    for row in frame.itertuples(index=False)]
            if not rows:
                continue
            score = sum(bool(COD_PCODE.match(_key(text))) for text in rows[0])
            if best is None or score > best[0]:
                best = (score, rows[0], rows[1:])
        if best is None:
            raise PlaceImportError(f"{path.name} has no sheet with rows")
        return best[1], best[2]
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|") if text.strip() else csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        raise PlaceImportError(f"{path.name} is empty")
    return rows[0], rows[1:]


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", normalise(text))


def _from_cod(path: Path, level_names: list[str] | None) -> ImportedPlaces:
    header, rows = _table(path)
    pcodes: dict[int, int] = {}
    names: dict[int, list[tuple[int, bool, str | None]]] = {}
    for position, text in enumerate(header):
        key = _key(text)
        if match := COD_PCODE.match(key):
            pcodes[int(match[1])] = position
        elif match := COD_NAME.match(key):
            alternative = (match[2] or "").startswith("alt")
            names.setdefault(int(match[1]), []).append((position, alternative, match[3]))
    if not pcodes:
        shown = ", ".join(repr(h) for h in header[:12]) + (", ..." if len(header) > 12 else "")
        raise PlaceImportError(
            f"{path.name} is not a P-code list: no column like admin1Pcode or ADM1_PCODE (one "
            "P-code column per admin level, with admin1Name_en or ADM1_EN for the names) among "
            f"its columns {shown}")
    levels = sorted(pcodes)
    top = [level for level in levels if level > 0]
    whole_area_name, whole_area_aliases = None, []
    if 0 in pcodes:
        countries = {row[pcodes[0]].strip() for row in rows if len(row) > pcodes[0]
                     and row[pcodes[0]].strip()}
        if len(countries) == 1:  # one country: it is the whole area, not a level
            first = next(row for row in rows if len(row) > pcodes[0] and row[pcodes[0]].strip())
            country_names = _names(first, names.get(0, []))
            whole_area_name = country_names[0] if country_names else None
            whole_area_aliases = [first[pcodes[0]].strip(), *country_names[1:]]
        else:
            top = levels
    codes = [f"admin{level}" for level in top]
    labels = [f"Admin {level}" for level in top]
    if level_names:
        if len(level_names) != len(top):
            raise PlaceImportError(f"{len(level_names)} level names given for the file's "
                                   f"{len(top)} levels (admin{', admin'.join(map(str, top))})")
        codes = [_level_code(name) for name in level_names]
        labels = [name.strip() for name in level_names]
    places: dict[str, ImportedPlace] = {}
    for row in rows:
        parent = None
        for level, code in zip(top, codes, strict=True):
            position = pcodes[level]
            pcode = row[position].strip() if len(row) > position else ""
            if not pcode:
                break
            if pcode not in places:
                place_names = _names(row, names.get(level, [])) or [pcode]
                places[pcode] = ImportedPlace(pcode, place_names[0], code, parent,
                                              place_names[1:])
            parent = pcode
    if not places:
        raise PlaceImportError(f"{path.name} has P-code columns but no rows with P-codes")
    imported = ImportedPlaces(path.name, list(zip(codes, labels, strict=True)),
                              list(places.values()), whole_area_name, whole_area_aliases)
    _settle(imported)
    return imported


def _names(row: list[str], columns: list[tuple[int, bool, str | None]]) -> list[str]:
    """A place's names: the preferred language's first, then other languages and alternative
    names (aliases)."""
    ordered = sorted(columns, key=lambda c: (c[1], c[2] != PREFERRED_LANGUAGE, c[2] is None,
                                             c[0]))
    found: list[str] = []
    for position, _, _ in ordered:
        text = row[position].strip() if len(row) > position else ""
        if text and normalise(text) not in {normalise(t) for t in found}:
            found.append(text)
    return found


def _level_code(name: str) -> str:
    code = re.sub(r"[^a-z0-9]+", "_", normalise(name)).strip("_")
    return code if re.match(r"^[a-z]", code) else f"level_{code}"


# --- DHIS2 organisation units ---------------------------------------------------------------

def _from_dhis2(documents: list[tuple[Path, object]], level_names: list[str] | None
                ) -> ImportedPlaces:
    units, level_rows, sources = [], [], []
    for path, document in documents:
        found = False
        if isinstance(document, dict):
            if isinstance(document.get("organisationUnits"), list):
                units += document["organisationUnits"]
                found = True
            if isinstance(document.get("organisationUnitLevels"), list):
                level_rows += document["organisationUnitLevels"]
                found = True
        elif isinstance(document, list) and document and isinstance(document[0], dict):
            if all("level" in item and "path" not in item and "parent" not in item
                   and "name" in item for item in document):
                level_rows += document
            else:
                units += document
            found = True
        if not found:
            raise PlaceImportError(
                f"{path.name} is JSON but not DHIS2 organisation units: no "
                "'organisationUnits' list (an export of /api/organisationUnits with id, name, "
                "level and parent or path) and no 'organisationUnitLevels'")
        sources.append(path.name)
    if not units:
        raise PlaceImportError("no organisation units in " + ", ".join(sources) + " (only "
                               "levels); give the organisationUnits export too")
    by_id = {}
    for unit in units:
        if not isinstance(unit, dict) or not unit.get("id"):
            continue
        by_id[str(unit["id"])] = unit

    def parent_of(unit: dict) -> str | None:
        parent = unit.get("parent")
        if isinstance(parent, dict) and parent.get("id"):
            return str(parent["id"])
        path = str(unit.get("path") or "").strip("/").split("/")
        return path[-2] if len(path) >= 2 else None

    def level_of(unit: dict) -> int:
        if isinstance(unit.get("level"), int):
            return unit["level"]
        path = str(unit.get("path") or "").strip("/").split("/")
        return len(path) if path != [""] else 1

    depths = sorted({level_of(u) for u in by_id.values()})
    roots = [u for u in by_id.values() if level_of(u) == depths[0]]
    whole_area_name, whole_area_aliases = None, []
    below = depths
    if len(roots) == 1:  # one national unit: the whole area
        root = roots[0]
        whole_area_name = _unit_name(root)
        whole_area_aliases = [str(root["id"]), *([str(root["code"])] if root.get("code") else [])]
        below = depths[1:]
    named = {int(row["level"]): str(row.get("displayName") or row.get("name"))
             for row in level_rows if isinstance(row, dict) and isinstance(row.get("level"), int)
             and (row.get("displayName") or row.get("name"))}
    labels = [named.get(depth, f"Level {depth}") for depth in below]
    if level_names:
        if len(level_names) != len(below):
            raise PlaceImportError(f"{len(level_names)} level names given for the "
                                   f"{len(below)} levels below the whole area")
        labels = [name.strip() for name in level_names]
    codes = [_level_code(label) for label in labels]
    code_of_depth = dict(zip(below, codes, strict=True))
    places = []
    for depth in below:
        for unit in sorted((u for u in by_id.values() if level_of(u) == depth),
                           key=lambda u: (_unit_name(u).lower(), str(u["id"]))):
            parent = parent_of(unit)
            if parent is not None and level_of(by_id.get(parent, {"level": 0})) not in \
                    code_of_depth:
                parent = None  # under the whole area
            aliases = [str(a) for a in (unit.get("code"), unit.get("shortName"))
                       if a and normalise(str(a)) != normalise(_unit_name(unit))]
            places.append(ImportedPlace(str(unit["id"]), _unit_name(unit), code_of_depth[depth],
                                        parent, list(dict.fromkeys(aliases))))
    imported = ImportedPlaces(", ".join(sources), list(zip(codes, labels, strict=True)), places,
                              whole_area_name, whole_area_aliases)
    _settle(imported)
    return imported


def _unit_name(unit: dict) -> str:
    return str(unit.get("displayName") or unit.get("name") or unit["id"]).strip()


# --- both ------------------------------------------------------------------------------------

def _settle(imported: ImportedPlaces) -> None:
    """Codes the registry accepts, and names that mean one place: a name several places share
    is written with its parent's ('Sonkoya MCHP (Bombali Sebora)'), so a file giving the plain
    name is refused as ambiguous rather than guessed."""
    pattern = re.compile(PLACE_CODE_PATTERN)
    for place in imported.places:
        if not pattern.match(place.code) or place.code.lower() == WHOLE_AREA:
            raise PlaceImportError(f"place code {place.code!r} ({place.name}) has characters a "
                                   "code may not have (letters, digits, _ . - only)")
    by_code = {p.code: p for p in imported.places}
    original = {p.code: p.name for p in imported.places}

    def depth(place: ImportedPlace) -> int:
        steps, current = 0, place
        while current.parent in by_code and steps < len(by_code):
            current, steps = by_code[current.parent], steps + 1
        return steps

    sharing: dict[str, list[ImportedPlace]] = {}
    for place in imported.places:
        sharing.setdefault(normalise(place.name), []).append(place)
    shared = sorted(group[0].name for group in sharing.values() if len(group) > 1)
    for group in sharing.values():
        if len(group) < 2:
            continue
        # The highest place keeps the plain name when it is the only one that high; the
        # others are written with their parent's name.
        group.sort(key=depth)
        keeps = depth(group[0]) < depth(group[1])
        for place in group[1:] if keeps else group:
            parent = original.get(place.parent) if place.parent else None
            place.name = f"{place.name} ({parent or place.code})"
    # An alias is kept once, and only when it names one place: never another place's name or
    # code, nor an alias two places share (Idlib, the governorate and its district).
    taken = {normalise(p.name) for p in imported.places} | {normalise(p.code)
                                                            for p in imported.places}
    taken |= {normalise(t) for t in [imported.whole_area_name or "", *imported.whole_area_aliases]}
    owners: dict[str, set[str]] = {}
    for place in imported.places:
        for alias in place.aliases:
            owners.setdefault(normalise(alias), set()).add(place.code)
    dropped = set()
    for place in imported.places:
        kept, seen = [], {normalise(place.name), normalise(place.code)}
        for alias in place.aliases:
            key = normalise(alias)
            if key in seen:
                continue
            seen.add(key)
            if key in taken or len(owners[key]) > 1:
                dropped.add(alias)
            else:
                kept.append(alias)
        place.aliases = kept
    if shared:
        imported.notes.append(
            f"{len(shared)} name{'s are' if len(shared) != 1 else ' is'} shared by several "
            f"places ({', '.join(repr(s) for s in shared[:5])}{', ...' if len(shared) > 5 else ''}"
            "): each lower one is written with its parent's name; files should give their "
            "codes")
    if dropped:
        imported.notes.append(
            f"{len(dropped)} alternative name{'s' if len(dropped) != 1 else ''} left out, each "
            f"naming more than one place ({', '.join(repr(d) for d in sorted(dropped)[:5])}"
            f"{', ...' if len(dropped) > 5 else ''})")


def write_dimensions(path: Path, imported: ImportedPlaces) -> list[str]:
    """Replace the levels, whole area and places of ``path`` (a registry/dimensions.yaml),
    keeping its comments, its other keys and the aliases a place of the same code had.
    Returns the codes of the places that were there and are not in the import."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    yaml = YAML()
    yaml.width = 120
    yaml.preserve_quotes = True
    document = yaml.load(path.read_text(encoding="utf-8")) if path.exists() else None
    if not isinstance(document, CommentedMap):
        document = CommentedMap()
    before = {str(p.get("code")).lower(): p for p in document.get("places") or []
              if isinstance(p, dict) and p.get("code") is not None}
    imported_codes = {p.code.lower() for p in imported.places}

    def flow(mapping: dict) -> CommentedMap:
        item = CommentedMap(mapping)
        item.fa.set_flow_style()
        return item

    levels = CommentedSeq([flow({"code": code, "name": name}) for code, name in imported.levels])
    places = CommentedSeq()
    for place in imported.places:
        kept = [str(a) for a in (before.get(place.code.lower()) or {}).get("aliases") or []]
        aliases = list(dict.fromkeys([*place.aliases, *kept]))
        entry = {"code": place.code, "name": place.name, "level": place.level}
        if place.parent:
            entry["parent"] = place.parent
        if aliases:
            entry["aliases"] = CommentedSeq(aliases)
            entry["aliases"].fa.set_flow_style()
        places.append(flow(entry))
    result = CommentedMap()
    result["levels"] = levels
    if imported.whole_area_name or imported.whole_area_aliases:
        area = {"name": imported.whole_area_name or "Whole area"}
        if imported.whole_area_aliases:
            area["aliases"] = CommentedSeq(imported.whole_area_aliases)
            area["aliases"].fa.set_flow_style()
        result["whole_area"] = flow(area)
    elif "whole_area" in document:
        result["whole_area"] = document["whole_area"]
    result["places"] = places
    for key, value in document.items():
        if key not in ("levels", "whole_area", "places"):
            result[key] = value
    if not path.exists() or not document.ca.comment:
        result.yaml_set_start_comment(
            f"Places imported from {imported.source} (murmuration places import); their "
            "levels top to bottom.\nAliases are other spellings partners use; edit freely.")
    else:
        result.ca.comment = document.ca.comment
    buffer = io.StringIO()
    yaml.dump(result, buffer)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return sorted(code for code in before if code not in imported_codes)
