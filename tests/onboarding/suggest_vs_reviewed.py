"""How `mapping suggest` does on the real files: its draft for each file in ../shared/realdata
compared, column by column, with the reviewed mapping in tests/realdata/<folder>/mappings.

    .venv/bin/python -m tests.onboarding.suggest_vs_reviewed

A column the reviewed mapping reads is *right* when the draft gives it the same role (for a wide
value column: the same indicator and breakdown), *other* when the draft takes that role from a
sibling column (a place name instead of its code), *wrong* when it gives it another role, and
*TODO* when the draft leaves it for a person (not read, or read with a TODO).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from murmuration.intake.header import Header, build_header, find_header
from murmuration.intake.readers import read_grid
from murmuration.onboarding import analyse, suggestion_yaml
from murmuration.paths import ProjectPaths
from murmuration.registry import load_registry
from murmuration.registry.mapping import EXTENSION_FORMATS, Mapping, alternatives
from tests.conftest import REALDATA, copy_initiative

FIXTURES = Path(__file__).resolve().parent.parent / "realdata"


@dataclass
class Comparison:
    folder: str
    file: str
    mapping: str
    sheet_and_header_right: bool
    found: str
    expected: str
    right: list[str] = field(default_factory=list)
    other_column: list[str] = field(default_factory=list)  # the role, from a sibling column
    wrong: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)


def roles_of(mapping: dict | Mapping, header: Header) -> dict[int, str]:
    """Column position -> what the mapping reads there (role, breakdown or value column)."""
    if isinstance(mapping, Mapping):
        mapping = mapping.model_dump(mode="json")
    found: dict[int, str] = {}

    def add(reference, what):
        for option in alternatives(reference):
            positions = header.matches(option)
            if positions:
                found.setdefault(positions[0], what)
                return

    columns = mapping.get("columns") or {}
    for role in ("period", "place", "indicator", "value", "combo"):
        if columns.get(role) and "TODO" not in str(columns[role]):
            add(columns[role], role)
    if (mapping.get("partner") or {}).get("column"):
        add(mapping["partner"]["column"], "partner")
    for dimension, reference in (columns.get("disaggregations") or {}).items():
        add(reference, f"breakdown {dimension}")
    for value in mapping.get("values") or []:
        indicator = value.get("indicator")
        if indicator == "TODO":
            continue
        parts = ";".join(f"{d}={c}" for d, c in sorted((value.get("disaggregation") or {})
                                                       .items()))
        add(value["column"], f"value {indicator or '(row indicator)'} {parts}".strip())
    return found


def initiative(folder: str, target: Path) -> ProjectPaths:
    """The folder's reviewed initiative, with the metadata files its mappings read."""
    paths = copy_initiative(FIXTURES / folder, target / folder)
    layout = yaml.safe_load((FIXTURES / folder / "layout.yaml").read_text())
    for item in layout.get("copy", []):
        (paths.project_dir / item["to"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REALDATA / folder / item["file"], paths.project_dir / item["to"])
    return paths


def compare(folder: str, inbox_file: str, target: Path) -> Comparison:
    registry = load_registry(initiative(folder, target) if not (target / folder).exists()
                             else ProjectPaths.for_project(target / folder))
    layout = yaml.safe_load((FIXTURES / folder / "layout.yaml").read_text())
    item = next(i for i in layout["inbox"] if i["to"] == inbox_file)
    path = target / Path(item["file"]).name
    shutil.copyfile(REALDATA / folder / item["file"], path)
    inbox_folder = inbox_file.split("/")[0]
    reviewed = registry.mapping_for(inbox_folder, path.name)
    suggestion = analyse(path, registry, folder=inbox_folder)
    draft = yaml.safe_load(suggestion_yaml(suggestion, inbox_folder, path.name))

    grid = read_grid(path, reviewed.format_for(path.name) or EXTENSION_FORMATS[path.suffix])
    rows = {}
    for row in grid.table.to_pylist():
        rows.setdefault(row["sheet"], []).append((row["row_number"], row["cells"]))
    expected_header, _ = find_header(rows, reviewed)
    sheet_rows = rows[suggestion.sheet]
    index = next(i for i, (n, _) in enumerate(sheet_rows) if n == suggestion.header_row)
    following = sheet_rows[index + 1][1] if index + 1 < len(sheet_rows) else None
    drafted_header = build_header(suggestion.sheet, suggestion.header_row,
                                  sheet_rows[index][1], following)
    expected = roles_of(reviewed, expected_header)
    drafted = roles_of(draft, drafted_header)
    comparison = Comparison(
        folder, path.name, reviewed.name,
        (suggestion.sheet, suggestion.header_row) == (expected_header.sheet,
                                                     expected_header.row_number),
        f"{suggestion.sheet or '-'}:{suggestion.header_row}",
        f"{expected_header.sheet or '-'}:{expected_header.row_number}")
    partner_by_folder = "partner" not in draft and inbox_folder in registry.partner_by_code
    for position, what in sorted(expected.items()):
        label = f"{expected_header.label(position)} ({what})"
        if what == "partner" and partner_by_folder:
            comparison.right.append(f"{label}: the inbox folder, the column's one value")
        elif position not in drafted and what in drafted.values():
            other = next(p for p, w in drafted.items() if w == what)
            comparison.other_column.append(f"{label}: drafted from "
                                           f"{drafted_header.label(other)!r}")
        elif position not in drafted:
            comparison.todo.append(label)
        elif drafted[position] == what or (what == "indicator" and drafted[position] ==
                                           "indicator"):
            comparison.right.append(label)
        else:
            comparison.wrong.append(f"{label} -> {drafted[position]}")
    return comparison


def compare_all() -> list[Comparison]:
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for fixture in sorted(p for p in FIXTURES.iterdir() if (p / "layout.yaml").exists()):
            if not (REALDATA / fixture.name).is_dir():
                continue
            layout = yaml.safe_load((fixture / "layout.yaml").read_text())
            seen_mappings = set()
            registry = load_registry(initiative(fixture.name, Path(scratch)))
            for item in layout["inbox"]:
                mapping = registry.mapping_for(item["to"].split("/")[0], Path(item["to"]).name)
                if mapping is None or mapping.name in seen_mappings:
                    continue  # one file per reviewed mapping (a template family)
                seen_mappings.add(mapping.name)
                results.append(compare(fixture.name, item["to"], Path(scratch)))
    return results


def main() -> None:
    print(f"{'folder':<28} {'file':<48} {'sheet:header':<18} right other wrong TODO")
    for c in compare_all():
        header = c.found if c.sheet_and_header_right else f"{c.found} (not {c.expected})"
        print(f"{c.folder:<28} {c.file[:48]:<48} {header:<18} {len(c.right):>5} "
              f"{len(c.other_column):>5} {len(c.wrong):>5} {len(c.todo):>4}")
        for label in c.other_column:
            print(f"    same role, other column: {label}")
        for label in c.wrong:
            print(f"    wrong: {label}")
        for label in c.todo:
            print(f"    TODO:  {label}")


if __name__ == "__main__":
    main()
