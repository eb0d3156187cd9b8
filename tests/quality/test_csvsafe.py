"""CSV cells that would run as spreadsheet formulas are neutralised; numbers stay numbers."""

import csv

import pytest

from murmuration.csvsafe import safe_cell, write_safe_csv


@pytest.mark.parametrize("cell, expected", [
    ("=1+2", "'=1+2"),
    ('=HYPERLINK("http://x","y")', "'=HYPERLINK(\"http://x\",\"y\")"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\t=1", "'\t=1"),
    ("-3", "-3"),
    ("+4.5", "+4.5"),
    ("1e-3", "1e-3"),
    ("Northgate", "Northgate"),
    (None, ""),
    (12.5, "12.5"),
])
def test_safe_cell(cell, expected):
    assert safe_cell(cell) == expected


def test_written_file_reads_back_neutralised(tmp_path):
    path = tmp_path / "out.csv"
    write_safe_csv(path, ["value", "note"], [["=1+2", "fine"], [-3, "@x"]])
    with path.open(encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle)) == [["value", "note"], ["'=1+2", "fine"], ["-3", "'@x"]]


TRICKY = ["=1+2", '=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
          "@SUM(A1:A2)", "\t=1", "\r=1", "-3", "+4.5", "1e-3", "Northgate", "", "a\x00b",
          "=\x07bell", "\x1b[31mred", "tab\tand\nline", "del\x7f", "'quoted'", "Ñandú"]


def test_the_sql_twin_writes_what_safe_cell_writes():
    """The accepted-values CSV is written by DuckDB (feedback._copy_csv): its cells must be the
    ones safe_cell gives, control characters escaped and formulas neutralised alike."""
    import duckdb

    from murmuration.csvsafe import escaped_controls_sql, neutralised_formula_sql

    con = duckdb.connect()
    got = con.execute(
        f"select {neutralised_formula_sql('e')} from (select {escaped_controls_sql('c')} as e, "
        f"n from (select unnest(?::varchar[]) as c, generate_subscripts(?::varchar[], 1) as n)) "
        f"order by n", [TRICKY, TRICKY]).fetchall()
    assert [row[0] for row in got] == [safe_cell(cell) for cell in TRICKY]
