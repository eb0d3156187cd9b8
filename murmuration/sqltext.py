"""SQL text written by Python: one way to quote a value, and text normalisation taken from the
dbt macro itself (dbt_project/macros/normalise_text.sql), so mapping and staging compare names
the same way. Prefer bound parameters; these are for what DuckDB takes only as text (a view's
file list, a COPY target, a literal inside a generated query)."""

from __future__ import annotations

from functools import cache

import jinja2

from murmuration.paths import DBT_PROJECT_DIR


def literal(value: object) -> str:
    """``value`` as a SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


@cache
def _normalise_macro():
    source = (DBT_PROJECT_DIR / "macros" / "normalise_text.sql").read_text(encoding="utf-8")
    return jinja2.Environment().from_string(source).module.normalise_text


def normalised_sql(expression: str) -> str:
    """The dbt macro ``normalise_text`` applied to ``expression`` (the Python twin is
    murmuration.registry.loader.normalise; tests/registry checks that they agree)."""
    return str(_normalise_macro()(expression)).strip()
