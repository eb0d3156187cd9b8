"""The documentation's commands and examples work as written: the mapping reference's examples
(docs/mappings.md) load against the sample's registry, and "Start a new initiative"
(docs/operations.md) runs from the repository root."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from murmuration.environment import OFFLINE
from murmuration.paths import REPO_ROOT, SAMPLE_PROJECT_DIR
from murmuration.registry import load_registry
from tests.conftest import copy_initiative

DOCUMENTS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]


def section(title: str) -> str:
    """The section headed `title` (at any level) in README.md or whichever docs/*.md holds it:
    from its heading to the next heading at its level or above (code blocks' `#` lines are not
    headings)."""
    for path in DOCUMENTS:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        fenced, start, level = False, None, 0
        for number, line in enumerate(lines):
            if line.startswith("```"):
                fenced = not fenced
            heading = None if fenced else re.match(r"(#+) (.*)$", line.rstrip("\n"))
            if heading and start is not None and len(heading.group(1)) <= level:
                return "".join(lines[start:number])
            if heading and start is None and heading.group(2) == title:
                start, level = number, len(heading.group(1))
        if start is not None:
            return "".join(lines[start:])
    raise AssertionError(f"no heading {title!r} in README.md or docs/*.md")


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def test_every_mapping_example_in_the_reference_loads(tmp_path):
    examples = blocks(section("Mapping reference"), "yaml")
    assert len(examples) == 5
    paths = copy_initiative(SAMPLE_PROJECT_DIR, tmp_path / "sample")
    for number, example in enumerate(examples):
        (paths.mappings_dir / f"zz_readme_{number}.yaml").write_text(example)
    registry = load_registry(paths)  # raises, naming file, line and field, if one is wrong
    names = {m.name for m in registry.mappings}
    assert {"sunrise_centres_csv", "parents_together_wide", "five_w_partner",
            "riverside_health_analytics", "camp_population"} <= names


@pytest.mark.slow
def test_start_a_new_initiative_runs_as_written(tmp_path):
    [block] = blocks(section("Start a new initiative"), "sh")
    target = tmp_path / "early-years"
    commands = [line.replace("../early-years", str(target)) for line in block.splitlines()
                if line.strip() and " serve " not in line]
    for command in commands:
        completed = subprocess.run(command, shell=True, cwd=REPO_ROOT, capture_output=True,
                                   text=True, env={**os.environ, **OFFLINE}, timeout=600)
        assert completed.returncode == 0, (command, completed.stdout[-2000:],
                                           completed.stderr[-2000:])
        if "mapping check" in command:
            assert "2 data rows = 2 accepted + 0 quarantined" in completed.stdout
    assert (target / ".murmuration" / "serving.duckdb").exists()
    shutil.rmtree(target)
