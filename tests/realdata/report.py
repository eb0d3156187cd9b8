"""Print, per real data folder, rows read / accepted / quarantined and the top quarantine
reasons: `.venv/bin/python -m tests.realdata.report` (the closing notes quote its output)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb

from murmuration.environment import OFFLINE, ensure_dbt_manifest
from tests.realdata.initiatives import FOLDERS, build


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
            cards = con.execute(
                "select partner_code, reports_expected, reports_received, reports_on_time, "
                "round(validity, 3), round(plausibility, 3), score, outliers, "
                "consistency_flags, relation_flags from quality.partner_scorecard "
                "order by partner_code").fetchall()
            con.close()
            print(f"{folder}: {files} files, {read} rows read, {data} data rows = {accepted} "
                  f"accepted + {quarantined} quarantined ({superseded} values superseded)")
            for reason, count in reasons:
                print(f"    {count:>5}  {reason[:150]}")
            print("    scorecard (partner: received/expected, on time, validity, plausibility, "
                  "score; outliers, consistency, relation flags)")
            for code, expected, received, on_time, validity, plausible, score, outliers, \
                    consistency, relations in cards:
                print(f"      {code}: {received}/{expected}, {on_time} on time, validity "
                      f"{validity}, plausibility {plausible}, score {score}; {outliers}, "
                      f"{consistency}, {relations}")


if __name__ == "__main__":
    main()
