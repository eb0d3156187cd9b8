"""Names for DHIS2 ids: from metadata exports (dataElements, categoryOptionCombos,
organisationUnits) or from an analytics response's own metaData."""

from __future__ import annotations

import json
from pathlib import Path

from murmuration.registry.mapping import IdSource, Mapping

COLLECTIONS = {
    IdSource.DATA_ELEMENTS: "dataElements",
    IdSource.CATEGORY_OPTION_COMBOS: "categoryOptionCombos",
    IdSource.ORG_UNITS: "organisationUnits",
}


class MetadataError(Exception):
    """A metadata file named by a mapping is missing or not a DHIS2 metadata export."""


def metadata_names(project_dir: Path, mapping: Mapping, source: IdSource) -> dict[str, str]:
    path = project_dir / mapping.metadata_files[source]
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise MetadataError(f"metadata file {path} could not be read ({error})") from error
    items = document.get(COLLECTIONS[source]) if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise MetadataError(f"metadata file {path} has no '{COLLECTIONS[source]}' list")
    return {item["id"]: item.get("name") or item.get("displayName") or item["id"]
            for item in items if isinstance(item, dict) and "id" in item}


def id_names(project_dir: Path, mapping: Mapping, embedded: dict[str, str]
             ) -> list[tuple[str, str, str]]:
    """(role, id, name) for every role the mapping resolves through ids."""
    rows = []
    for role, source in mapping.resolve_ids.items():
        names = embedded if source is IdSource.EMBEDDED else metadata_names(
            project_dir, mapping, source)
        rows += [(role, identifier, name) for identifier, name in names.items()]
    return rows
