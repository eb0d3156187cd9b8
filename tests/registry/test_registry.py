"""The registry loads the sample, and every kind of mistake is reported with file, line, field."""

from __future__ import annotations

import duckdb
import pytest

from murmuration.paths import SAMPLE_PROJECT_DIR, ProjectPaths
from murmuration.registry import RegistryError, load_registry
from murmuration.registry.loader import normalise
from murmuration.registry.models import Aggregation
from tests.conftest import copy_initiative


@pytest.fixture
def project(tmp_path) -> ProjectPaths:
    return copy_initiative(SAMPLE_PROJECT_DIR, tmp_path / "initiative")


def edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def problems_of(project: ProjectPaths) -> list[str]:
    with pytest.raises(RegistryError) as caught:
        load_registry(project)
    return caught.value.problems


def test_sample_registry_loads_with_all_its_parts():
    registry = load_registry(ProjectPaths.for_project(SAMPLE_PROJECT_DIR))
    assert registry.initiative.name == "Riverside Early Years Partnership"
    assert len(registry.indicators) == 10
    assert {p.code for p in registry.partners} == {
        "brightstart", "little_steps", "riverside_health", "family_hub", "parents_together",
        "library_service", "housing_trust", "childcare_info", "community_centres"}
    coverage = registry.indicators["immunisation_coverage"]
    assert coverage.aggregation is Aggregation.RATIO
    assert (coverage.numerator, coverage.denominator, coverage.factor) == (
        "immunised_children", "children_age_2", 100)
    assert registry.mapping_for("brightstart", "brightstart_2025-01.csv").name == "brightstart_csv"
    assert registry.mapping_for("brightstart", "notes.xlsx") is None
    assert registry.status_rule(coverage).at_risk_tolerance == 0.25


def test_wrong_type_names_file_line_and_field(project):
    path = project.registry_dir / "indicators.yaml"
    edit(path, "valid_range: {min: 0, max: 400}", "valid_range: {min: 0, max: lots}")
    [problem] = problems_of(project)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "lots" in text)
    assert problem.startswith(f"{path}, line {line}, indicators[0].valid_range.max:")
    assert "number" in problem


def test_unknown_field_and_missing_field_are_both_reported(project):
    path = project.registry_dir / "partners.yaml"
    edit(path, "    due_days: 20\n", "    due_dayz: 20\n")
    edit(path, "    name: Parents Together\n", "")
    problems = problems_of(project)
    assert any("partners[2].due_dayz: unknown field" in p for p in problems)
    assert any("partners[4].name: this field is required" in p for p in problems)


def test_cross_references_are_checked(project):
    edit(project.registry_dir / "targets.yaml", "indicator: home_visits", "indicator: home_visit")
    edit(project.registry_dir / "indicators.yaml", "working_group: health\n",
         "working_group: wellbeing\n")
    edit(project.mappings_dir / "library_service_csv.yaml", "reading_hours: minutes",
         "reading_hours: seconds")
    problems = "\n".join(problems_of(project))
    assert "targets[2].indicator: 'home_visit' is not an indicator" in problems
    assert "working group 'wellbeing' is not in working_groups" in problems
    assert "no conversion from 'seconds' to 'hours'" in problems


def test_alias_shared_by_two_partners_is_refused(project):
    edit(project.registry_dir / "partners.yaml", "aliases: [RHT]", "aliases: [RHT, Little Steps]")
    assert any("'Little Steps' is also a name of partner 'little_steps'" in p
               for p in problems_of(project))


def test_milestones_out_of_order_are_refused(project):
    edit(project.registry_dir / "targets.yaml", "{period: 2025-06, value: 1550}",
         "{period: 2027-09, value: 1550}")
    assert any("must be in period order" in p for p in problems_of(project))


def test_bad_period_and_invalid_yaml(project):
    edit(project.registry_dir / "targets.yaml", "period: 2024-11, value: 240",
         "period: 2024-13, value: 240")
    assert any("must be written YYYY-MM" in p for p in problems_of(project))
    (project.registry_dir / "dimensions.yaml").write_text("places: [\n")
    problems = problems_of(project)
    assert any("dimensions.yaml" in p and "not valid YAML" in p for p in problems)


def test_python_and_sql_normalisation_agree():
    texts = ["  BOLÍVAR ", "Bolívar", "Sí", "si", "North\n Gate", "ÑANDÚ  Ñandú", "Eastfield"]
    con = duckdb.connect()
    from murmuration.sqltext import normalised_sql

    for text in texts:
        sql = con.execute(f"select {normalised_sql('?')}", [text]).fetchall()[0][0]
        assert sql == normalise(text), text
