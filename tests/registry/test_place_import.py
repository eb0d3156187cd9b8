"""`murmuration places import`: a place hierarchy from an OCHA COD P-code table or a DHIS2
organisation unit export, written into registry/dimensions.yaml."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from murmuration.paths import SAMPLE_PROJECT_DIR, ProjectPaths
from murmuration.registry import load_registry
from murmuration.registry.place_import import PlaceImportError, read_places, write_dimensions
from tests.conftest import REALDATA, copy_initiative

COD = """\
admin0Name_en,admin0Name_fr,admin0Pcode,admin1Name_en,admin1Name_fr,admin1Pcode,admin2Name_en,admin2Name_fr,admin2Pcode,admin2AltName1_en
Syria,Syrie,SY,Aleppo,Alep,SY02,Jebel Saman,Djebel Saman,SY0200,Mount Simeon
Syria,Syrie,SY,Aleppo,Alep,SY02,Al Bab,Al-Bab,SY0201,
Syria,Syrie,SY,Idleb,Idlib,SY07,Idleb,Idlib,SY0700,
Syria,Syrie,SY,Idleb,Idlib,SY07,Harim,Harem,SY0703,
"""


@pytest.fixture
def project(tmp_path) -> ProjectPaths:
    paths = copy_initiative(SAMPLE_PROJECT_DIR, tmp_path / "initiative")
    # The sample's mappings and targets name its own places; an initiative starting from a COD
    # has none yet.
    for mapping in paths.mappings_dir.glob("*.yaml"):
        mapping.unlink()
    (paths.registry_dir / "targets.yaml").write_text("targets: []\n")
    return paths


def test_a_cod_table_becomes_levels_places_and_the_whole_area(project, tmp_path):
    table = tmp_path / "syr_adm2.csv"
    table.write_text(COD, encoding="utf-8-sig")
    imported = read_places([table], ["Governorate", "District"])
    assert imported.levels == [("governorate", "Governorate"), ("district", "District")]
    assert (imported.whole_area_name, imported.whole_area_aliases) == ("Syria", ["SY", "Syrie"])
    target = project.registry_dir / "dimensions.yaml"
    target.write_text(target.read_text().replace("    aliases: [North Gate]\n",
                                                 "    aliases: [North Gate]\n", 1))
    dropped = write_dimensions(target, imported)
    assert dropped == ["east", "north", "south", "west"]
    text = target.read_text()
    assert text.startswith("# Places and disaggregations every partner reports against.")
    assert "disaggregations:" in text and "code: age_band" in text  # the rest is kept
    registry = load_registry(project)
    places = {p.code: p for p in registry.dimensions.places}
    assert set(places) == {"SY02", "SY07", "SY0200", "SY0201", "SY0700", "SY0703"}
    assert (places["SY0200"].name, places["SY0200"].parent, places["SY0200"].level) == (
        "Jebel Saman", "SY02", "district")
    assert places["SY0200"].aliases == ["Djebel Saman", "Mount Simeon"]
    # Idleb the district shares its governorate's name: written with its parent's; "Idlib",
    # the French name of both, names no place (a file saying it is refused, not guessed).
    assert places["SY0700"].name == "Idleb (Idleb)" and places["SY0700"].aliases == []
    assert places["SY07"].aliases == []
    assert imported.notes == [
        "1 name is shared by several places ('Idleb'): each lower one is written with its "
        "parent's name; files should give their codes",
        "1 alternative name left out, each naming more than one place ('Idlib')"]
    assert registry.place_tree.ancestors("SY0703") == ["SY07"]
    assert registry.place_code("sy0201") == "SY0201"


def test_the_command_line_reports_what_it_read(project, tmp_path):
    table = tmp_path / "syr_adm2.csv"
    table.write_text(COD)
    done = subprocess.run([sys.executable, "-m", "app.cli", "places", "import", str(table),
                           "--levels", "Governorate,District", "--project",
                           str(project.project_dir)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        "Read 6 places from syr_adm2.csv: 2 at level Governorate, 4 at level District; the "
        "whole area is Syria (SY, Syrie)")


def test_a_file_that_is_not_a_place_list_says_what_was_looked_for(tmp_path):
    table = tmp_path / "partners.csv"
    table.write_text("Organisation,Province,People reached\nA,Kabul,12\n")
    with pytest.raises(PlaceImportError) as caught:
        read_places([table])
    assert str(caught.value) == (
        "partners.csv is not a P-code list: no column like admin1Pcode or ADM1_PCODE (one "
        "P-code column per admin level, with admin1Name_en or ADM1_EN for the names) among its "
        "columns 'Organisation', 'Province', 'People reached'")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"dataValues": []}))
    with pytest.raises(PlaceImportError, match="not DHIS2 organisation units"):
        read_places([other])


def test_dhis2_organisation_units_with_their_levels(project):
    folder = REALDATA / "dhis2_sierra_leone_demo"
    if not folder.is_dir():
        pytest.skip(f"{folder} is not on this machine")
    imported = read_places([folder / "metadata_organisationUnits_nogeometry.json",
                            folder / "metadata_organisationUnitLevels.json"])
    assert [name for _, name in imported.levels] == ["District", "Chiefdom", "Facility"]
    assert imported.whole_area_name == "Sierra Leone"
    assert len(imported.places) == 1331
    write_dimensions(project.registry_dir / "dimensions.yaml", imported)
    registry = load_registry(project)
    tree = registry.place_tree
    facility = next(p for p in registry.dimensions.places if p.level == "facility")
    assert len(tree.ancestors(facility.code)) == 2
    assert tree.level_name[tree.ancestors(facility.code)[-1]] == "District"
