"""SQL that turns a period text into the date its period starts, by the mapping's formats."""

from __future__ import annotations

import re

YEAR_DIRECTIVES = re.compile(r"%[YyG]")


def iso_week_start(year: str, week: str) -> str:
    """SQL: the Monday of ISO week ``week`` of ``year`` (both SQL integer expressions)."""
    january_4 = f"make_date({year}, 1, 4)"
    return (f"(case when {week} between 1 and 53 then cast({january_4} - "
            f"to_days(cast(isodow({january_4}) - 1 + 7 * (1 - {week}) as integer)) as date) end)")


def period_start_sql(text: str, formats: list[str], default_year: int | None) -> str:
    """SQL for the first format (in order) that parses ``text``; null when none does."""
    parts = []
    for fmt in formats:
        if fmt == "excel_serial":
            parts.append(f"(case when regexp_full_match({text}, '[0-9]{{5}}(\\.0+)?') then "
                         f"cast(date '1899-12-30' + to_days(cast(cast({text} as double) "
                         f"as integer)) as date) end)")
        elif fmt == "iso_week":
            match = f"regexp_extract({text}, '^([0-9]{{4}})-?W([0-9]{{1,2}})$', ['y', 'w'])"
            parts.append(iso_week_start(f"try_cast(nullif({match}.y, '') as integer)",
                                        f"try_cast(nullif({match}.w, '') as integer)"))
        elif fmt == "week_year":
            match = f"regexp_extract({text}, 'W([0-9]{{1,2}})[^0-9]+([0-9]{{4}})', ['w', 'y'])"
            parts.append(iso_week_start(f"try_cast(nullif({match}.y, '') as integer)",
                                        f"try_cast(nullif({match}.w, '') as integer)"))
        else:
            escaped = fmt.replace("'", "''")
            parsed = f"cast(try_strptime({text}, '{escaped}') as date)"
            if default_year and not YEAR_DIRECTIVES.search(fmt):
                parsed = f"make_date({int(default_year)}, month({parsed}), day({parsed}))"
            parts.append(parsed)
    return f"coalesce({', '.join(parts)})" if parts else "null::date"
