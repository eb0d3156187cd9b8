"""Period texts resolve to the right month, and a format that cannot fix the month is refused."""

from __future__ import annotations

from datetime import date

import pytest

from murmuration.paths import SAMPLE_PROJECT_DIR
from murmuration.registry import RegistryError, load_registry
from murmuration.registry.periods import (
    DEFAULT_FORMATS,
    format_problem,
    parse_period,
    period_in_name,
)
from tests.conftest import copy_initiative

MONTHS = DEFAULT_FORMATS["month"]


@pytest.mark.parametrize("text, expected", [
    ("Sept 2025", date(2025, 9, 1)),
    ("Sep. 2025", date(2025, 9, 1)),
    ("September 2025", date(2025, 9, 1)),
    ("septiembre de 2025", date(2025, 9, 1)),
    ("Setiembre 2025", date(2025, 9, 1)),
    ("septembre 2025", date(2025, 9, 1)),
    ("setembro 2025", date(2025, 9, 1)),
    ("Março 2024", date(2024, 3, 1)),
    ("août 2023", date(2023, 8, 1)),
    ("Dic-24", date(2024, 12, 1)),
    ("2025 Sep", date(2025, 9, 1)),
    ("2025-09", date(2025, 9, 1)),
    ("202509", date(2025, 9, 1)),
    ("2025-09-30 00:00:00", date(2025, 9, 30)),
    ("45930", date(2025, 9, 30)),  # an Excel day number
    ("no month here", None),
    ("", None),
])
def test_common_month_spellings_parse_without_custom_formats(text, expected):
    assert parse_period(text, MONTHS) == expected


def test_a_month_name_without_a_year_needs_the_default_year():
    assert parse_period("Abril", MONTHS) is None
    assert parse_period("Abril", MONTHS, default_year=2020) == date(2020, 4, 1)


def test_the_period_in_a_file_or_sheet_name():
    assert period_in_name("5W_Abril_2020.xlsx", MONTHS) == (date(2020, 4, 1), "Abril 2020")
    assert period_in_name("brightstart_enrolment_2025-05_corrected.csv", MONTHS) == (
        date(2025, 5, 1), "2025-05")
    assert period_in_name("returns 2025-05 and 2025-06.csv", MONTHS) == (None, None)  # two
    assert period_in_name("returns.csv", MONTHS) == (None, None)


def test_a_format_must_fix_the_whole_period():
    problem = format_problem("Sept %Y", "month", None)
    assert problem.startswith("period format 'Sept %Y' does not fix the month")
    assert "reads back as 2024-01-01" in problem and "'Sept' in it is read literally" in problem
    assert format_problem("%B", "month", None) is not None  # no year
    assert format_problem("%B", "month", 2020) is None  # ... unless the mapping gives one
    assert format_problem("%d/%m/%Y", "month", None) is None
    assert format_problem("%b-%y", "month", None) is None
    assert format_problem("%Y-%m", "week", None).startswith(
        "period format '%Y-%m' does not fix the week")
    assert format_problem("iso_week", "month", None).startswith(
        "period format 'iso_week' reads a week")
    assert format_problem("iso_week", "week", None) is None


def test_a_mapping_with_a_format_that_misplaces_months_is_refused(tmp_path):
    """Finding: `period_formats: ["Sept %Y"]` passed validation and published September as
    2026-01."""
    paths = copy_initiative(SAMPLE_PROJECT_DIR, tmp_path / "sample")
    mapping = paths.mappings_dir / "little_steps_csv.yaml"
    mapping.write_text(mapping.read_text().replace('period_formats: ["%b %Y", "%B %Y"]',
                                                   'period_formats: ["Sept %Y"]'))
    with pytest.raises(RegistryError) as raised:
        load_registry(paths)
    [problem] = raised.value.problems
    assert "little_steps_csv.yaml" in problem and "period_formats" in problem
    assert "does not fix the month" in problem
