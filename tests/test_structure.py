"""The house rules of the code's structure (docs/architecture.md), checked so they stay true:
imports run downward through the layers; in dbt only staging reads sources, every staging model
states its key, macro files are named after their macros, unit tests sit beside their model."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from murmuration.paths import DBT_PROJECT_DIR, REPO_ROOT

MODELS = DBT_PROJECT_DIR / "models"


def test_imports_run_downward_through_the_layers():
    completed = subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
                               cwd=REPO_ROOT, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert "1 kept, 0 broken" in completed.stdout


def test_only_staging_models_read_sources():
    readers = sorted(str(path.relative_to(DBT_PROJECT_DIR))
                     for folder in (MODELS, DBT_PROJECT_DIR / "macros")
                     for path in folder.rglob("*.sql")
                     if "source(" in path.read_text() and path.parent.name != "staging")
    assert readers == []


def test_every_staging_model_is_documented_with_a_key_test():
    documented = {}
    for model in yaml.safe_load((MODELS / "staging" / "_staging.yml").read_text())["models"]:
        tests = list(model.get("data_tests", []))
        for column in model.get("columns", []):
            tests += column.get("data_tests", [])
        documented[model["name"]] = (model.get("description"), tests)
    for path in (MODELS / "staging").glob("*.sql"):
        description, tests = documented.get(path.stem, (None, []))
        assert description and tests, f"{path.stem}: no description or key test in _staging.yml"


def test_macro_files_are_named_after_a_macro_they_define():
    for path in (DBT_PROJECT_DIR / "macros").glob("*.sql"):
        defined = re.findall(r"\{%-?\s*macro\s+(\w+)\(", path.read_text())
        assert path.stem in defined, f"{path.name} defines {defined}"


def test_unit_tests_sit_beside_the_model_they_test():
    folder_of = {path.stem: path.parent for path in MODELS.rglob("*.sql")}
    for properties in MODELS.rglob("*.yml"):
        for unit_test in (yaml.safe_load(properties.read_text()) or {}).get("unit_tests") or []:
            assert folder_of[unit_test["model"]] == properties.parent, unit_test["name"]


def test_every_command_line_flag_says_what_it_does():
    """Found: `demo --help` listed --dashboard-port and --dagster-port with no help text."""
    import argparse

    from app.cli import parser

    def walk(command: argparse.ArgumentParser, name: str):
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    yield from walk(sub, f"{name} {sub_name}")
            elif not isinstance(action, argparse._HelpAction):
                yield name, action

    silent = [f"{name} {'/'.join(action.option_strings) or action.dest}"
              for name, action in walk(parser(), "murmuration") if not action.help]
    assert silent == []
