"""Period texts -> the date their period starts, by a mapping's formats, and checks on formats.

Partners write months in many ways: ``2025-09``, ``202509``, ``Sep 2025``, ``Sept. 2025``,
``septiembre 2025``, ``Abril``, a date, an Excel day number, an ISO week. Month names in English,
Spanish, French and Portuguese (full or short, with or without a dot) are read without a custom
format; a mapping's ``period_formats`` add strptime formats and the special formats below.

Parsing runs in Python on the *distinct* period texts of a file (a handful per file), so the
rules live in one place and ``mapping check`` can show what each text resolved to.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta

SPECIAL_FORMATS = {
    "excel_serial": "an Excel day number, e.g. 44165",
    "iso_week": "an ISO week, e.g. 2023W16 or 2023-W16",
    "week_year": "a week number then a year, e.g. W36 2019",
}

DEFAULT_FORMATS = {
    "month": ["%Y-%m", "%Y%m", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "excel_serial"],
    "week": ["iso_week", "%Y-%m-%d", "week_year"],
}

# Month names partners write, by month number: English, Spanish, French, Portuguese; full names
# and the usual short forms (compared without accents, case or a trailing dot).
_MONTH_WORDS = {
    1: "january jan enero ene janvier janv janeiro",
    2: "february feb febrero fevrier fevr fev fevereiro",
    3: "march mar marzo mars marco",
    4: "april apr abril abr avril avr",
    5: "may mayo mai maio",
    6: "june jun junio juin junho",
    7: "july jul julio juillet juil julho",
    8: "august aug agosto ago aout",
    9: "september sep sept septiembre setiembre set septembre setembro",
    10: "october oct octubre octobre outubro out",
    11: "november nov noviembre novembre novembro",
    12: "december dec diciembre dic decembre dezembro dez",
}
MONTH_WORDS = {word: month for month, words in _MONTH_WORDS.items() for word in words.split()}
_ENGLISH = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_WORD = re.compile(r"[^\W\d_]+\.?")
_JOINERS = r"(?:\s*[-/.,_ ]\s*|\s+(?:de|del|of|do|da)\s+)"
_ABBREVIATION = "(" + "|".join(_ENGLISH) + ")"
_MONTH_YEAR = re.compile(rf"^{_ABBREVIATION}{_JOINERS}?(\d{{4}}|\d{{2}})$")
_YEAR_MONTH = re.compile(rf"^(\d{{4}}){_JOINERS}?{_ABBREVIATION}$")
_MONTH_ONLY = re.compile(rf"^{_ABBREVIATION}$")
YEAR_DIRECTIVES = re.compile(r"%[YyG]")
MONTH_DIRECTIVES = re.compile(r"%[mbBj]")


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def english_month_names(text: str) -> str:
    """Every month name in the text (any of the languages above) as English ``Jan``..``Dec``."""
    def swap(match: re.Match) -> str:
        word = match.group(0)
        month = MONTH_WORDS.get(word.rstrip(".").lower())
        return _ENGLISH[month - 1] if month else word
    return _WORD.sub(swap, _plain(text)).strip()


def _strptime(text: str, fmt: str, default_year: int | None) -> date | None:
    try:
        parsed = datetime.strptime(text, fmt.replace("%B", "%b"))
    except ValueError:
        return None
    if default_year and not YEAR_DIRECTIVES.search(fmt):
        return date(default_year, parsed.month, 1 if "%d" not in fmt else parsed.day)
    return parsed.date()


def _iso_week(year: int, week: int) -> date | None:
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError:
        return None


def _special(text: str, fmt: str) -> date | None:
    if fmt == "excel_serial":
        if re.fullmatch(r"\d{5}(\.0+)?", text):
            return date(1899, 12, 30) + timedelta(days=int(float(text)))
        return None
    if fmt == "iso_week":
        match = re.fullmatch(r"(\d{4})-?W(\d{1,2})", text, re.IGNORECASE)
        return _iso_week(int(match[1]), int(match[2])) if match else None
    if fmt == "week_year":
        match = re.search(r"W(\d{1,2})\D+(\d{4})", text, re.IGNORECASE)
        return _iso_week(int(match[2]), int(match[1])) if match else None
    raise ValueError(f"unknown special period format {fmt!r}")


def _month_name(text: str, default_year: int | None) -> date | None:
    """Built in: a month name and a year in either order (``Sep 2025``, ``2025-Sep``,
    ``Sep-25``, ``septiembre de 2025``), or a month name alone with a default year."""
    for pattern, month_group, year_group in ((_MONTH_YEAR, 1, 2), (_YEAR_MONTH, 2, 1)):
        match = pattern.match(text)
        if match:
            year = int(match[year_group])
            year = year + 2000 if year < 100 else year
            return date(year, _ENGLISH.index(match[month_group]) + 1, 1)
    match = _MONTH_ONLY.match(text)
    if match and default_year:
        return date(default_year, _ENGLISH.index(match[1]) + 1, 1)
    return None


def parse_period(text: str | None, formats: list[str], default_year: int | None = None
                 ) -> date | None:
    """The date the period written ``text`` starts on, by the first format (in order) that reads
    it, else by the built-in month names; None when nothing does."""
    if text is None or not str(text).strip():
        return None
    raw = " ".join(str(text).split())
    named = english_month_names(raw)
    for fmt in formats:
        if fmt in SPECIAL_FORMATS:
            found = _special(raw, fmt)
        else:
            found = _strptime(raw, fmt, default_year) or (
                _strptime(named, fmt, default_year) if named != raw else None)
        if found is not None:
            return found
    return _month_name(named, default_year)


def period_in_name(name: str | None, formats: list[str], default_year: int | None = None
                   ) -> tuple[date | None, str | None]:
    """The one period a file or sheet name gives (``5W_Abril_2020.xlsx``,
    ``returns 2025-09``): (start, the words it was read from), or (None, None) when the name
    gives none or several different ones."""
    if not name:
        return None, None
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", str(name))
    tokens = [t for t in re.split(r"[\s_]+", stem) if t]
    found: dict[date, str] = {}
    for size in (1, 2, 3):
        for start in range(len(tokens) - size + 1):
            words = " ".join(tokens[start:start + size])
            parsed = parse_period(words, formats, default_year)
            if parsed is not None:
                found.setdefault(parsed, words)
        if found:
            break
    if len(found) != 1:
        return None, None
    (start, words), = found.items()
    return start, words


# --- checks on a mapping's formats ------------------------------------------------------------

_PROBES = [date(2024, 3, 5), date(2023, 11, 20), date(2025, 7, 31), date(2022, 1, 3)]


def _period_of(day: date, period_type: str) -> tuple[int, int]:
    if period_type == "week":
        iso = day.isocalendar()
        return iso.year, iso.week
    return day.year, day.month


def format_problem(fmt: str, period_type: str, default_year: int | None) -> str | None:
    """Why ``fmt`` cannot be trusted to put a value in the right period (None when it can).

    A format must fix the whole period for the initiative's period type: a month needs a year
    (or the mapping's ``period_default_year``) and a month; a week a year and a week or a day.
    Checked by writing a few dates with the format and reading them back."""
    if fmt in SPECIAL_FORMATS:
        if fmt in ("iso_week", "week_year") and period_type == "month":
            return (f"period format {fmt!r} reads a week, which does not fix a month (this "
                    "initiative reports by month)")
        return None
    try:
        written = [(day, day.strftime(fmt)) for day in _PROBES]
    except ValueError as error:
        return f"period format {fmt!r} is not a valid strptime format ({error})"
    if not re.search(r"%[a-zA-Z]", fmt):
        return (f"period format {fmt!r} has no date directive (%Y, %m, %b, %d, ...), so every "
                "text it reads would land in the same period")
    literal_month = next((w for w in _WORD.findall(re.sub(r"%[a-zA-Z]", " ", fmt))
                          if w.rstrip(".").lower() in MONTH_WORDS), None)
    for day, text in written:
        back = _strptime(english_month_names(text), fmt, default_year) \
            or _strptime(text, fmt, default_year)
        expected = _period_of(day, period_type)
        if default_year and not YEAR_DIRECTIVES.search(fmt):
            expected = (default_year, expected[1])
        if back is None or _period_of(back, period_type) != expected:
            what = "week" if period_type == "week" else "month"
            needs = ("a year (%Y, or period_default_year) and a month (%m, %b or %B)"
                     if period_type == "month" else
                     "a year and a day (%Y-%m-%d), a day of the year (%j), or use iso_week / "
                     "week_year")
            hint = (f" The text {literal_month!r} in it is read literally, not as a month: "
                    "month names (English, Spanish, French, Portuguese; full or short, e.g. "
                    "Sept, Sep., septiembre) are understood without a custom format."
                    if literal_month else "")
            return (f"period format {fmt!r} does not fix the {what}: it needs {needs} "
                    f"(written {day.isoformat()} as {text!r}, it reads back as "
                    f"{back.isoformat() if back else 'nothing'}).{hint}")
    return None


def year_in_name(name: str | None) -> int | None:
    """The one year (1990-2099) a file or sheet name gives ('camps_2024.xlsx'), else None."""
    if not name:
        return None
    years = {int(y) for y in re.findall(r"(?<!\d)(19[9]\d|20\d\d)(?!\d)", str(name))}
    return years.pop() if len(years) == 1 else None
