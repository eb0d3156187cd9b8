"""The "Onboard a partner" walk-through (docs/mappings.md), step by step, on a format the sample
has not seen: register, drop a file, suggest, check (not ready), fix, check (ready), run."""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from app.summary import EXIT_NOT_READ
from murmuration.environment import OFFLINE
from murmuration.paths import REPO_ROOT
from tests.conftest import SAMPLE

OCTOBER = """Reporting period,Ward,Measure,Sex,Total
Oct 2026,Northgate,Children enrolled,Girls,12
Oct 2026,Northgate,Children enrolled,Boys,11
Oct 2026,Eastfield,Children enrolled,Girls,9
Oct 2026,Nortgate,Home visits,,30
Oct 2026,Eastfield,Home visits,,TBC
"""


def murmuration(*arguments) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", *arguments],
                          capture_output=True, text=True, env={**os.environ, **OFFLINE},
                          timeout=300, cwd=REPO_ROOT)  # the docs' commands run from here


def test_onboard_a_new_partner_format(sample_paths):
    project = str(sample_paths.project_dir)
    partners = sample_paths.registry_dir / "partners.yaml"
    partners.write_text(partners.read_text() + """  - code: sunrise_centres
    name: Sunrise Children's Centres
    cadence: monthly
    due_days: 15
    indicators: [children_enrolled, home_visits]
""")
    sample = sample_paths.inbox_dir / "sunrise_centres" / "october.csv"
    sample.parent.mkdir()
    sample.write_text(OCTOBER)

    draft = sample_paths.mappings_dir / "sunrise_centres_csv.yaml"
    # As docs/mappings.md writes it: the file's path inside the initiative folder.
    suggested = murmuration("mapping", "suggest", "inbox/sunrise_centres/october.csv",
                            "--project", project, "--output", str(draft))
    assert suggested.returncode == 0, suggested.stderr
    mapping = yaml.safe_load(draft.read_text())
    assert mapping["applies_to"] == {"folders": ["sunrise_centres"], "files": ["*.csv"]}
    assert mapping["columns"] == {"period": "Reporting period", "place": "Ward",
                                  "indicator": "Measure", "value": "Total",
                                  "disaggregations": {"sex": "Sex"}}
    assert "period_formats" not in mapping  # 'Oct 2026' reads as a month name
    # Measures and wards are registry names already; the one unknown spelling is left to review.
    assert mapping["codes"] == {"place": {"Nortgate": "TODO"}}

    first = murmuration("mapping", "check", str(sample), "--project", project)
    assert first.returncode == 2  # TODO is not a registry code: the mapping does not validate
    assert "codes" in first.stderr

    draft.write_text(draft.read_text().replace("Nortgate: TODO", "Nortgate: north"))
    second = murmuration("mapping", "check", "inbox/sunrise_centres/october.csv", "--project",
                         project)
    assert second.returncode == 1
    assert "5 data rows = 4 accepted + 1 quarantined" in second.stdout
    assert "Periods:  2026-10 <- Oct 2026 (5 rows)" in second.stdout
    assert "value 'TBC' is not a number  [row 6, column Total]" in second.stdout
    print(second.stdout)  # docs/mappings.md quotes this output

    sample.write_text(OCTOBER.replace("TBC", "27"))
    third = murmuration("mapping", "check", str(sample), "--project", project)
    assert third.returncode == 0, third.stdout
    assert "Ready: every row is accepted." in third.stdout

    run = murmuration("run", "--project", project, "--quiet")
    # the sample plants two files that cannot be read: published, exit code 3
    assert run.returncode == EXIT_NOT_READ, run.stdout + run.stderr
    assert (f"Files:       {SAMPLE.files + 1} (1 ignored, {SAMPLE.landed + 1} landed, "
            "2 unreadable)") in run.stdout
