"""The floor: a hand-written DuckDB script doing the pipeline's core work on the benchmark's
files (floor.sql), to measure Murmuration against in the same run.

    .venv/bin/python -m app.benchmark.floor INITIATIVE_FOLDER OUTPUT.duckdb
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import fastexcel
import pyarrow as pa

SQL = Path(__file__).with_name("floor.sql")


def run(initiative: Path, output: Path) -> dict[str, int]:
    inbox = initiative / "inbox"
    files = sorted(p for p in inbox.rglob("*") if p.is_file())
    output.unlink(missing_ok=True)
    con = duckdb.connect(str(output))
    try:
        con.execute("create table files (filename varchar, partner_code varchar, "
                    "arrived_at timestamptz)")
        con.executemany("insert into files values (?, ?, ?)", [
            (str(p), p.relative_to(inbox).parts[0],
             datetime.fromtimestamp(p.stat().st_mtime, UTC)) for p in files])
        csvs = [str(p) for p in files if p.suffix == ".csv"]
        workbooks = [p for p in files if p.suffix == ".xlsx"]
        documents = [str(p) for p in files if p.suffix == ".json"]
        con.execute("create table raw_long as select * from read_csv(?, all_varchar = true, "
                    "header = true, filename = true)", [csvs])
        tables = []
        for path in workbooks:
            sheet = fastexcel.read_excel(str(path)).load_sheet_by_name(
                "Return", header_row=2, dtypes="string")
            table = pa.Table.from_batches([sheet.to_arrow()])
            tables.append(table.append_column("filename", pa.array([str(path)] * len(table))))
        raw_wide = pa.concat_tables(tables) if tables else pa.table({})
        con.register("raw_wide_arrow", raw_wide)
        con.execute("create table raw_wide as select * from raw_wide_arrow")
        con.execute("create table raw_dhis2 as select filename, v.dataElement, v.period, "
                    "v.orgUnit, v.categoryOptionCombo, v.value from (select filename, "
                    "unnest(dataValues) as v from read_json(?, filename = true, "
                    "maximum_object_size = 1000000000))", [documents])
        registry = initiative / "registry"
        import yaml

        dimensions = yaml.safe_load((registry / "dimensions.yaml").read_text())
        indicators = yaml.safe_load((registry / "indicators.yaml").read_text())
        con.execute("create table places (text_key varchar, code varchar)")
        con.executemany("insert into places values (lower(?), ?)", [
            (text, place["code"]) for place in dimensions["places"]
            for text in [place["code"], place["name"], *place.get("aliases", [])]])
        con.execute("create table indicators (text_key varchar, code varchar)")
        con.executemany("insert into indicators values (lower(?), ?)", [
            (text, item["code"]) for item in indicators["indicators"]
            for text in [item["code"], item["name"], *item.get("aliases", [])]])
        con.execute("create table sexes (text_key varchar, code varchar)")
        con.executemany("insert into sexes values (lower(?), ?)", [
            (text, category["code"]) for category in dimensions["disaggregations"][0][
                "categories"] for text in [category["code"], category["name"],
                                           *category.get("aliases", [])]])
        for lookup in ("places", "indicators", "sexes"):
            con.execute(f"create or replace table {lookup} as select distinct * from {lookup}")
        con.execute(SQL.read_text())
        return {name: con.execute(f"select count(*) from {name}").fetchone()[0]
                for name in ("records", "current_values", "totals", "outliers", "consistency")}
    finally:
        con.close()


if __name__ == "__main__":
    counts = run(Path(sys.argv[1]), Path(sys.argv[2]))
    print(" ".join(f"{name}={count}" for name, count in counts.items()))
