"""The real-data initiatives: one per folder here (registry, mappings, layout.yaml saying which
real files of ../shared/realdata go where in the inbox), built with the pipeline's own steps.
Used by test_realdata.py and by report.py."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from murmuration.intake.arrivals import record as record_arrivals
from murmuration.registry import load_registry
from tests.conftest import REALDATA, build_outside_dagster, copy_initiative

FIXTURES = Path(__file__).parent
FOLDERS = sorted(p.name for p in FIXTURES.iterdir() if (p / "layout.yaml").exists())

def build(folder: str, target: Path):
    """The folder's initiative with its real files in the inbox, landed and harmonised."""
    source = REALDATA / folder
    if not source.is_dir():
        pytest.skip(f"{source} is not on this machine")
    paths = copy_initiative(FIXTURES / folder, target)
    layout = yaml.safe_load((FIXTURES / folder / "layout.yaml").read_text())
    # The real arrival times are unknown: the files "arrive" the day before as_of, in order.
    arrival = (datetime.fromisoformat(layout["as_of"]) - timedelta(days=1)).timestamp()
    for order, item in enumerate(layout["inbox"]):
        destination = paths.inbox_dir / item["to"]
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / item["file"], destination)
        record_arrivals(paths, [destination], "recorded",
                        datetime.fromtimestamp(arrival + 60 * order, UTC))
    for item in layout.get("copy", []):
        (paths.project_dir / item["to"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / item["file"], paths.project_dir / item["to"])
    build_outside_dagster(paths, layout["as_of"])  # due dates judged as of the data's time
    registry = load_registry(paths)
    return paths, registry
