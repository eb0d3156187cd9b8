"""Print, per real data folder, rows read / accepted / quarantined and the top quarantine
reasons: `.venv/bin/python -m tests.realdata.report` (the closing notes quote its output)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb

from murmuration.environment import OFFLINE, ensure_dbt_manifest
from tests.realdata.test_realdata import FOLDERS, build


def main() -> None:
    import os

    os.environ.update(OFFLINE)
    ensure_dbt_manifest()
    with tempfile.TemporaryDirectory() as scratch:
        for folder in FOLDERS:
            paths, _ = build(folder, Path(scratch) / folder)
            con = duckdb.connect(str(paths.warehouse), read_only=True)
            files, read, data, accepted, quarantined, superseded = con.execute(
                "select count(*), sum(rows_read), sum(data_rows), sum(rows_accepted), "
                "sum(rows_quarantined), sum(values_superseded) from marts.submissions"
            ).fetchall()[0]
            reasons = con.execute(
                "select quarantine_reason, count(distinct submission_id || sheet || row_number) "
                "from marts.quarantined_values group by 1 order by 2 desc limit 4").fetchall()
            con.close()
            print(f"{folder}: {files} files, {read} rows read, {data} data rows = {accepted} "
                  f"accepted + {quarantined} quarantined ({superseded} values superseded)")
            for reason, count in reasons:
                print(f"    {count:>5}  {reason[:150]}")


if __name__ == "__main__":
    main()
