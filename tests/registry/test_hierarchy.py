"""Places form a hierarchy (levels, parents, P-codes as written) and indicators declare how they
roll up (aggregation types); every mistake is refused as the registry loads, with its line."""

from __future__ import annotations

import pytest

from murmuration.paths import SAMPLE_PROJECT_DIR, ProjectPaths
from murmuration.registry import RegistryError, load_registry
from murmuration.registry.tables import code_lookup, registry_tables
from tests.conftest import copy_initiative

LEVELS = """\
levels:
  - {code: region, name: Region}
  - {code: province, name: Province}
whole_area: {name: Afghanistan, aliases: [National, AF]}
places:
  - {code: R1, name: Central, level: region}
  - {code: R2, name: Eastern, level: region}
  - {code: north, name: Northgate, level: province, parent: R1, aliases: [North Gate]}
  - {code: south, name: Southbank, level: province, parent: R1, aliases: [South Bank]}
  - {code: east, name: Eastfield, level: province, parent: R2}
  - {code: west, name: Westmoor, level: province, parent: R2, aliases: [West Moor]}
  - {code: AF01, name: Kabul, level: province, parent: R1}
  - {code: AF07, name: Nangarhar, level: province, parent: R2, aliases: [Nangrahar]}
"""


@pytest.fixture
def project(tmp_path) -> ProjectPaths:
    return copy_initiative(SAMPLE_PROJECT_DIR, tmp_path / "initiative")


def with_places(project: ProjectPaths, places: str) -> None:
    path = project.registry_dir / "dimensions.yaml"
    text = path.read_text()
    path.write_text(places + text[text.index("disaggregations:"):])


def problems_of(project: ProjectPaths) -> list[str]:
    with pytest.raises(RegistryError) as caught:
        load_registry(project)
    return caught.value.problems


def line_of(project: ProjectPaths, text: str) -> int:
    lines = (project.registry_dir / "dimensions.yaml").read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def test_places_at_levels_with_upper_case_p_codes_load_as_a_tree(project):
    with_places(project, LEVELS)
    registry = load_registry(project)
    tree = registry.place_tree
    assert tree.ancestors("AF01") == ["R1"] and tree.depth["AF01"] == 2
    assert tree.level_name["AF07"] == "Province" and tree.level_name["R2"] == "Region"
    tables = registry_tables(registry)
    above = {(r["place_code"], r["ancestor_code"]): r["distance"]
             for r in tables["place_ancestors"].to_pylist()}
    assert above[("AF01", "AF01")] == 0 and above[("AF01", "R1")] == 1
    assert above[("AF01", "all")] == 2 and above[("R1", "all")] == 1
    assert ("AF01", "R2") not in above
    # P-codes as written in files, in any case, and the whole area's own names, resolve.
    lookup = {(r["role"], r["text_key"]): r["code"] for r in code_lookup(registry)
              if r["mapping_name"] == "*"}
    assert lookup[("place", "af01")] == "AF01"
    assert lookup[("place", "nangrahar")] == "AF07"
    assert lookup[("place", "national")] == "all" and lookup[("place", "af")] == "all"
    assert registry.place_code("af07") == "AF07" and registry.place_code("ALL") == "all"


def test_an_unknown_parent_is_refused_with_its_line(project):
    with_places(project, LEVELS.replace("parent: R2, aliases: [Nangrahar]",
                                        "parent: R9, aliases: [Nangrahar]"))
    [problem] = problems_of(project)
    assert f"line {line_of(project, 'R9')}" in problem
    assert "places[7].parent: parent 'R9' is not a place code" in problem


def test_a_cycle_is_refused(project):
    with_places(project, """\
places:
  - {code: north, name: Northgate, parent: west}
  - {code: south, name: Southbank}
  - {code: east, name: Eastfield, parent: north}
  - {code: west, name: Westmoor, parent: east}
""")
    [problem] = problems_of(project)
    assert "places[0].parent: places form a cycle: north -> west -> east -> north" in problem


def test_a_place_at_two_levels_is_refused(project):
    # A province whose parent is a province: it cannot be at the province level.
    with_places(project, LEVELS.replace("parent: R2, aliases: [Nangrahar]",
                                        "parent: AF01, aliases: [Nangrahar]"))
    [problem] = problems_of(project)
    assert "places[7].level: 'AF07' is at level province but its parent 'AF01' is at level " \
           "province" in problem
    assert f"line {line_of(project, 'AF07')}" in problem


def test_a_level_name_at_two_depths_is_refused_without_declared_levels(project):
    with_places(project, """\
places:
  - {code: north, name: Northgate, level: region}
  - {code: south, name: Southbank, level: district, parent: north}
  - {code: east, name: Eastfield, level: district, parent: south}
  - {code: west, name: Westmoor}
""")
    [problem] = problems_of(project)
    assert "places[2].level: level 'district' is at depth 3 here ('east') and at depth 2" \
        in problem


def test_place_codes_differing_only_in_case_and_a_text_naming_two_places_are_refused(project):
    with_places(project, LEVELS + "  - {code: af01, name: Kabul city, level: province, "
                                  "parent: R1}\n")
    assert any("place code (case ignored) 'af01' is listed twice" in p
               for p in problems_of(project))
    with_places(project, LEVELS.replace("aliases: [Nangrahar]", "aliases: [Kabul]"))
    assert any("'Kabul' names both 'AF01' and 'AF07'" in p for p in problems_of(project))
    with_places(project, LEVELS.replace("code: R2", "code: ALL"))
    assert any("'all' is reserved for the whole area" in p for p in problems_of(project))


def test_aggregation_types_and_their_time_rule(project):
    path = project.registry_dir / "indicators.yaml"
    text = path.read_text().replace(
        "    aggregation: sum\n    direction: higher_is_better\n    working_group: early_learning\n"
        "    disaggregations: [place]\n    valid_range: {min: 0, max: 500}",
        "    aggregation: median\n    time_aggregation: mean\n    direction: higher_is_better\n"
        "    working_group: early_learning\n    disaggregations: [place]\n"
        "    valid_range: {min: 0, max: 500}", 1)
    path.write_text(text)
    registry = load_registry(project)
    reading = registry.indicators["reading_hours"]
    assert (reading.across_places, reading.across_time, reading.additive,
            reading.shows_contributions) == ("median", "mean", False, False)
    housing = registry.indicators["families_in_temporary_housing"]
    assert (housing.across_places, housing.across_time, housing.additive) == ("sum", "last", True)
    coverage = registry.indicators["immunisation_coverage"]
    assert (coverage.across_time, coverage.shows_contributions) == ("sum", True)
    row = next(r for r in registry_tables(registry)["indicators"].to_pylist()
               if r["indicator_code"] == "reading_hours")
    assert (row["place_aggregation"], row["time_aggregation"], row["is_additive"]) == (
        "median", "mean", False)
    path.write_text(text.replace("    aggregation: latest\n",
                                 "    aggregation: latest\n    time_aggregation: mean\n"))
    assert any("latest is a sum across places of each series' last value" in p
               for p in problems_of(project))
    path.write_text(text.replace("    aggregation: median\n", "    aggregation: average\n"))
    assert any("aggregation" in p and "'sum', 'mean', 'median'" in p
               for p in problems_of(project))
