"""Publishing the serving snapshot: a new file swapped in whole, built from a copy of the
published one in which only the keys built again are replaced."""

from __future__ import annotations

import shutil

import duckdb

from app.summary import PUBLISHED
from murmuration.paths import ProjectPaths
from murmuration.warehouse import publish

# Tables whose rows carry what they were built from (partner_inputs / period_inputs).
KEYED = {"marts.indicator_values", "marts.indicator_contributions", "marts.indicator_breakdowns",
         "quality.value_flags", "quality.relation_flags", "quality.submission_scorecard"}


def test_a_republish_replaces_only_the_keys_built_again(sample_run, tmp_path):
    assert sample_run.returncode in PUBLISHED, sample_run.stdout[-2000:]
    shutil.copytree(sample_run.paths.project_dir, tmp_path / "sample")
    paths = ProjectPaths.for_project(tmp_path / "sample")

    # Nothing changed since the run published: the keyed tables are kept as published.
    unchanged = publish(paths)
    assert KEYED <= set(unchanged.counts)
    assert not KEYED & set(unchanged.copied + unchanged.updated)
    assert "marts.indicator_period_totals" in unchanged.copied  # no inputs column: small, copied
    assert_snapshot_equals_warehouse(paths)

    # One partner's values rebuilt from other inputs (here by hand): its rows are replaced in
    # that table only, and the snapshot still equals the warehouse.
    con = duckdb.connect(str(paths.warehouse))
    con.execute("update marts.indicator_values set value = value + 1, partner_inputs = 12345 "
                "where partner_key = 'brightstart'")
    con.close()
    changed = publish(paths)
    assert changed.updated == ["marts.indicator_values"]
    assert not KEYED & set(changed.copied)
    assert_snapshot_equals_warehouse(paths)

    # No published file yet: everything is copied.
    paths.serving.unlink()
    first = publish(paths)
    assert set(first.copied) == set(first.counts) - {"intake.file_details"}
    assert_snapshot_equals_warehouse(paths)


def assert_snapshot_equals_warehouse(paths: ProjectPaths) -> None:
    """Every published table holds exactly the warehouse's rows, and no other table is there."""
    con = duckdb.connect()
    con.execute(f"attach '{paths.serving}' as serving (read_only)")
    con.execute(f"attach '{paths.warehouse}' as warehouse (read_only)")
    try:
        def tables(catalog: str) -> set[tuple[str, str]]:
            return set(con.execute(
                "select table_schema, table_name from information_schema.tables where "
                "table_catalog = ? and table_schema in ('marts', 'quality')",
                [catalog]).fetchall())
        assert tables("serving") == tables("warehouse")
        for schema, name in tables("warehouse"):
            for left, right in (("serving", "warehouse"), ("warehouse", "serving")):
                differing = con.execute(
                    f"select count(*) from (select * from {left}.{schema}.{name} except all "
                    f"select * from {right}.{schema}.{name})").fetchall()[0][0]
                assert differing == 0, f"{schema}.{name}"
    finally:
        con.close()
