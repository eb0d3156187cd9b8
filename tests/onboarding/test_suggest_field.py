"""`mapping suggest` on the shapes the field's files take: sites with several activity rows,
months as columns, a level column beside its totals, identifiers that look like numbers, sexes
written as words, a sub-folder per office, months without a year."""

from __future__ import annotations

import shutil

import pytest
import yaml

from murmuration.onboarding import analyse, suggestion_yaml
from murmuration.paths import SAMPLE_PROJECT_DIR, ProjectPaths
from murmuration.registry import load_registry
from tests.conftest import copy_initiative
from tests.dbt.test_field_model import FIXTURE, SITES


@pytest.fixture(scope="module")
def field_registry():
    return load_registry(ProjectPaths.for_project(FIXTURE))


def draft(path, registry, folder):
    suggestion = analyse(path, registry, folder=folder)
    return suggestion, yaml.safe_load(suggestion_yaml(suggestion, folder, path.name))


def test_a_site_report_is_deduplicated_by_site_and_its_site_id_is_not_a_value(tmp_path,
                                                                              field_registry):
    path = tmp_path / "4w.csv"
    path.write_text(SITES.replace("Month,Province,Site,", "Month,Province,Site ID,Site,")
                    .replace(",Camp A,", ",101,Camp A,").replace(",Camp B,", ",102,Camp B,")
                    .replace(",Camp C,", ",103,Camp C,").replace(",Camp D,", ",104,Camp D,"))
    suggestion, mapping = draft(path, field_registry, "wash_cluster")
    assert mapping["dedupe_by"] == ["Site"] and mapping["duplicate_keys"] == "max"
    assert mapping["values"] == [{"column": "People reached", "indicator": "people_reached"}]
    assert {"Site ID", "Activity"} <= set(mapping["ignore_columns"])
    assert "codes" not in mapping
    assert any("'Site ID' identifies something" in note for note in suggestion.notes)


def test_months_as_columns_get_one_value_entry_and_the_year_from_the_name(tmp_path,
                                                                          field_registry):
    path = tmp_path / "camps_2025.csv"
    path.write_text("Province,Community,Jan,Feb,Mar\nAF01,Community 1,100,110,120\n"
                    "AF01,Community 2,40,,45\nAF03,Community 3,7,8,-\n")
    suggestion, mapping = draft(path, field_registry, "camp_agency")
    assert mapping["layout"] == "wide"
    assert mapping["values"] == [{"period_headers": True, "indicator": "TODO"}]
    assert "period" not in mapping["columns"] and mapping["columns"]["place"] == "Province"
    assert any("2025 from the file name" in note for note in suggestion.notes)
    assert any("'-' read as 'reported nothing'" in note for note in suggestion.notes)


def test_a_level_column_beside_totals_proposes_summary_rows_without_a_hierarchy(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("Month,Level,Area,Home visits\n2025-01,Ward,Northgate,10\n"
                    "2025-01,Ward,Southbank,12\n2025-01,Ward,Eastfield,9\n"
                    "2025-01,City,Riverside,31\n")
    registry = load_registry(ProjectPaths.for_project(SAMPLE_PROJECT_DIR))
    suggestion, mapping = draft(path, registry, "family_hub")
    assert mapping["summary_rows"] == [{"column": "Level", "values": ["City"]}]


def test_sexes_written_as_words_and_a_year_not_taken_from_the_arrival(tmp_path):
    paths = copy_initiative(SAMPLE_PROJECT_DIR, tmp_path / "initiative")
    dimensions = paths.registry_dir / "dimensions.yaml"
    dimensions.write_text(dimensions.read_text()
                          .replace("aliases: [M, Boys, Boy, Men]", "aliases: []")
                          .replace("aliases: [F, Girls, Girl, Women]", "aliases: []"))
    registry = load_registry(paths)
    folder = paths.inbox_dir / "family_hub" / "north_east_hub"
    folder.mkdir(parents=True)
    path = folder / "return.csv"
    path.write_text("Month,Area,Indicator,Men +18,Women +18\nMarch,Northgate,Home visits,4,6\n")
    suggestion, mapping = draft(path, registry, "family_hub")
    assert [v.get("disaggregation") for v in mapping["values"]] == [{"sex": "m"}, {"sex": "f"}]
    assert mapping["period_default_year"] == "TODO"
    assert mapping["reporting_unit"] == {"folder": True}
    shutil.rmtree(folder)
