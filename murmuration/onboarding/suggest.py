"""``mapping suggest``: a draft mapping from an unseen file, for a person to review.

It reads the file with landing's readers and scores every sheet's first rows as the header
(short text cells, words the registry or the roles know, rows of numbers under it), so a
dropdown-values sheet or a title or group row above the header is not taken for it. Then it
guesses each column's role from its header text, its HXL hashtag and its values, matched against
the registry: the period (and the formats or the year it needs), the partner, the place, the
indicator (a column whose texts name registry indicators), value columns whose headers name
indicators and breakdown categories (``Men +18`` -> sex m, age 18+), units in brackets, total
rows and total columns. Every proposal says why; texts the registry does not know are left as
``TODO``, never guessed. Nothing is applied: the draft is YAML for a person to review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from murmuration.intake.header import build_header, hxl_parts, is_hxl_row
from murmuration.intake.readers import read_grid
from murmuration.intake.reasons import unsupported_extension
from murmuration.registry import Registry
from murmuration.registry.loader import normalise
from murmuration.registry.mapping import EXTENSION_FORMATS, FileFormat
from murmuration.registry.periods import DEFAULT_FORMATS, parse_period
from murmuration.registry.tables import code_lookup

ROLE_WORDS = {
    "period": ["month", "period", "date", "reporting month", "week", "pe", "mes", "fecha",
               "mes reportado", "periodo", "semana", "mois", "periode", "date de rapport",
               "reporting period"],
    "place": ["area", "place", "region", "district", "state", "province", "county", "ward",
              "neighbourhood", "neighborhood", "location", "org unit", "orgunit", "ou",
              "estado", "municipio", "parroquia", "admin1", "adm1", "localite", "commune"],
    "partner": ["organisation", "organization", "partner", "org", "implementing partner",
                "organizacion", "organizacion implementadora", "socio", "reporting org",
                "reporting-org", "agency"],
    "indicator": ["indicator", "measure", "data element", "dataelement", "dx", "variable",
                  "activity", "actividad", "indicateur", "metric", "data"],
    "value": ["value", "count", "number", "total", "achieved", "amount", "valor", "valeur",
              "alcanzado", "reached", "quantity"],
    "combo": ["categoryoptioncombo", "category option combo", "coc"],
}
ROLE_TAGS = {
    "period": {"date", "period"},
    "place": {"adm1", "adm2", "adm3", "adm4", "loc", "country"},
    "partner": {"org"},
    "indicator": {"indicator", "activity"},
    "value": {"reached", "affected", "targeted", "value", "inneed"},
}
PERIOD_CANDIDATES = ["%Y-%m", "%Y%m", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y", "%m/%d/%Y",
                     "%d.%m.%Y", "%d-%m-%Y", "%b %Y", "%b %y", "%d/%m/%Y %H:%M"]
TOTAL_WORDS = {"total", "totals", "grand total", "sum", "subtotal", "sub total", "totales",
               "total general", "suma", "totaux", "total geral"}
# A column saying what level a row is at (a province, its region, the country): rows above
# the most common level are the file's own totals.
LEVEL_WORDS = {"level", "admin level", "type", "row type", "nivel", "niveau", "tipo",
               "granularity", "aggregation", "admin"}
# A column naming one site: its activities reach the same people (4W: max per site and month).
SITE_WORDS = {"site", "camp", "facility", "school", "settlement", "centre", "center",
              "health facility", "site name", "site code", "sitio", "campamento", "escuela",
              "centro", "site id", "camp name", "location name", "collective centre"}
# Words of a column that identifies something (never a value, however numeric).
IDENTIFIER_WORDS = {"id", "code", "codigo", "cod", "pcode", "phone", "telephone", "telefono",
                    "tel", "ref", "reference", "uid", "serial", "zip", "postcode", "cedula"}
# Cells that report nothing beyond the mapping's default empty_values.
NOTHING_CELLS = {"-", "--", "n/a", "nil", "na", "n.a.", "none", "..", "—", "–", "s/d", "nd",
                 "n/d", "sin dato", "sans objet"}
DEFAULT_NOTHING = {"-", "--", "n/a", "nil"}
# Sex categories partners write, when the registry names the categories by code or in English.
SEX_WORDS = {"m": {"men", "man", "male", "males", "boys", "boy", "hombres", "hombre", "ninos",
                   "nino", "varones", "hommes", "garcons", "homens", "meninos"},
             "f": {"women", "woman", "female", "females", "girls", "girl", "mujeres", "mujer",
                   "ninas", "nina", "femmes", "filles", "mulheres", "meninas"}}
LEAD_WORDS = {"lead", "lider", "principal", "chef de file"}
HEADER_ROWS = 30
ROWS_BELOW = 50
NUMERIC = 0.8  # share of a column's values that are numbers for it to hold values


@dataclass
class Column:
    position: int
    header: str
    tag: str
    samples: list[str]
    numeric_share: float
    filled: int = 0

    @property
    def reference(self) -> str:
        return self.header if self.header.strip() else self.tag


@dataclass
class HeaderCandidate:
    sheet: str
    row_number: int
    score: float
    text_cells: int
    known: int
    number_rows: int

    def describe(self) -> str:
        return (f"sheet {self.sheet or '-'!r} row {self.row_number}: score {self.score:.0f} "
                f"({self.text_cells} header cells, {self.known} known to the registry or the "
                f"roles, {self.number_rows} rows of numbers under it)")


@dataclass
class Suggestion:
    file_format: FileFormat
    sheet: str
    header_row: int
    hxl_row: int | None
    columns: list[Column]
    candidates: list[HeaderCandidate] = field(default_factory=list)
    roles: dict[str, Column] = field(default_factory=dict)
    wide_values: list[tuple[Column, str | None, dict[str, str]]] = field(default_factory=list)
    breakdowns: dict[str, Column] = field(default_factory=dict)
    period_formats: list[str] = field(default_factory=list)
    period_default_year: int | str | None = None
    period_headers: list[Column] = field(default_factory=list)  # periods as columns
    dedupe_by: list[Column] = field(default_factory=list)
    empty_values: list[str] = field(default_factory=list)
    unit_from_folder: bool = False
    summary_rows: dict[str, list[str]] = field(default_factory=dict)  # role -> total texts
    units: dict[str, str] = field(default_factory=dict)  # indicator -> the partner's unit
    ignored: dict[int, str] = field(default_factory=dict)  # position -> why it is not read
    unresolved: dict[str, list[str]] = field(default_factory=dict)
    resolved: dict[str, dict[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def unsure(self) -> bool:
        """The runner-up header is nearly as good: show the candidates."""
        return len(self.candidates) > 1 and \
            self.candidates[1].score >= 0.8 * self.candidates[0].score


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"-?[0-9][0-9,]*(\.[0-9]+)?", text.strip()))


def _words(text: str) -> str:
    return normalise(re.sub(r"[^\w\s+]", " ", text or ""))


def _format_for(path: Path) -> FileFormat:
    file_format = EXTENSION_FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise ValueError(f"{path.name}: {unsupported_extension(path.suffix)}")
    return file_format


# --- what the registry knows, as words -------------------------------------------------------

@dataclass
class Vocabulary:
    """The registry's names as normalised texts: roles' lookups, indicator words, categories
    with the age ranges they stand for, units and their conversions."""

    lookup: dict[str, dict[str, str]]  # role -> normalised text -> code
    indicator_texts: dict[str, str]  # normalised name/alias/code -> indicator code
    categories: dict[str, list[tuple[str, str]]]  # normalised text -> [(dimension, code)]
    ranges: dict[tuple[int, int | None], tuple[str, str]]  # age range -> (dimension, code)
    conversions: dict[str, dict[str, str]]  # indicator -> normalised partner unit -> unit
    header_words: set[str]  # words and phrases that make a cell look like a header

    @classmethod
    def of(cls, registry: Registry | None) -> Vocabulary:
        words = {w for words in ROLE_WORDS.values() for w in words}
        if registry is None:
            return cls({}, {}, {}, {}, {}, words)
        lookup: dict[str, dict[str, str]] = {}
        for entry in code_lookup(registry):
            if entry["mapping_name"] == "*":
                lookup.setdefault(entry["role"], {})[entry["text_key"]] = entry["code"]
        indicator_texts = {normalise(t): i.code for i in registry.reported_indicators
                           for t in (i.code, i.name, i.label, *i.aliases)}
        categories, ranges = {}, {}
        for dimension in registry.dimensions.disaggregations:
            for category in dimension.categories:
                for text in (category.code, category.name, *category.aliases):
                    named = categories.setdefault(normalise(text), [])
                    if (dimension.code, category.code) not in named:
                        named.append((dimension.code, category.code))
                    found = age_range(text)
                    if found:
                        ranges.setdefault(found, (dimension.code, category.code))
        for dimension in registry.dimensions.disaggregations:
            # The usual words for the sexes, for a dimension whose categories are m/f (or
            # male/female) but list no alias such as 'Men' or 'niñas'.
            codes = {normalise(c.code): c.code for c in dimension.categories}
            codes |= {normalise(c.name): c.code for c in dimension.categories}
            for key, sex_words in SEX_WORDS.items():
                code = codes.get(key) or codes.get({"m": "male", "f": "female"}[key])
                if code is None:
                    continue
                for word in sex_words:
                    categories.setdefault(word, [])
                    if all(d != dimension.code for d, _ in categories[word]):
                        categories[word].append((dimension.code, code))
        units = {u.code: u for u in registry.catalogue.units}
        conversions = {
            i.code: {_singular(normalise(partner)): partner
                     for partner in units[i.unit].conversions}
            for i in registry.reported_indicators if i.unit in units}
        words |= set(indicator_texts) | set(categories)
        return cls(lookup, indicator_texts, categories, ranges, conversions, words)

    def known(self, text: str) -> bool:
        """A header's words: a role's word, an indicator or a category (plural or not)."""
        words = _words(text)
        return words in self.header_words or _singular(words) in self.header_words or any(
            w in self.header_words or _singular(w) in self.header_words
            for w in words.split() if len(w) > 2)

    def is_value(self, text: str) -> bool:
        """A cell that is a place's or a partner's name is data, not a header."""
        key = normalise(text)
        return any(key in self.lookup.get(role, {}) for role in ("place", "partner"))


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") else word


AGE_PATTERNS = [  # (regex, how to read the numbers into a range)
    (re.compile(r"(?<![\d.])(\d{1,3})\s*(?:-|–|\bto\b|\ba\b|\bà\b|\by\b|\band\b)\s*"
                r"(\d{1,3})(?![\d.])"), lambda m: (int(m[1]), int(m[2]))),
    (re.compile(r"\b(?:mayores de|more than|older than|over|plus de|mais de)\s*(\d{1,3})"
                r"(?![\d.])"), lambda m: (int(m[1]) + 1, None)),
    (re.compile(r"(?<![\d.])(\d{1,3})\s*(?:years?|yrs?|anos|ans)?\s*(?:\+|and over|"
                r"or more|and above|or over|y mas|et plus|e mais)"),
     lambda m: (int(m[1]), None)),
    (re.compile(r"\+\s*(\d{1,3})(?![\d.])"), lambda m: (int(m[1]), None)),
    (re.compile(r"\b(?:under|below|less than|menores de|moins de|menos de)\s*(\d{1,3})"
                r"(?![\d.])"), lambda m: (0, int(m[1]) - 1)),
]


def age_range(text: str) -> tuple[int, int | None] | None:
    """The age range a text names: '0-4', '7 a 12 años' -> (lo, hi); '18+', '+18', 'Women
    (18+)', 'mayores de 19' -> (lo, None); 'under 5' -> (0, 4). None when it names none."""
    plain = normalise(text)
    for pattern, read in AGE_PATTERNS:
        match = pattern.search(plain)
        if match:
            return read(match)
    return None


# --- the header ------------------------------------------------------------------------------

def header_candidates(grid_rows: dict[str, list[tuple[int, list]]], vocabulary: Vocabulary,
                      sheet: str | None = None) -> list[HeaderCandidate]:
    """Every row of the first rows of each sheet scored as the header, best first: its short
    text cells, plus twice those the registry or the roles know, plus the rows of numbers
    under it (up to 20), so a dropdown list or a title or group row scores below the header."""
    found = []
    for name, rows in grid_rows.items():
        if sheet is not None and name != sheet:
            continue
        for index, (row_number, cells) in enumerate(rows[:HEADER_ROWS]):
            texts = [str(c).strip() for c in cells if c is not None and str(c).strip()]
            header_like = [t for t in texts if not _is_number(t) and hxl_parts(t) is None
                           and len(t) < 120]
            if len(header_like) < 2:
                continue
            known = sum(vocabulary.known(t) for t in header_like) - sum(
                vocabulary.is_value(t) for t in header_like)
            below = rows[index + 1:index + 1 + ROWS_BELOW]
            if below and is_hxl_row(below[0][1]):
                below = below[1:]
            number_rows = sum(
                1 for _, row in below
                if any(c is not None and _is_number(str(c)) for c in row)
                and sum(c is not None and str(c).strip() != "" for c in row)
                >= max(2, len(header_like) // 4))
            score = len(header_like) + 2 * known + min(number_rows, 20)
            found.append(HeaderCandidate(name, row_number, score, len(header_like), known,
                                         number_rows))
    return sorted(found, key=lambda c: (-c.score, list(grid_rows).index(c.sheet),
                                        c.row_number))


# --- the whole suggestion --------------------------------------------------------------------

def analyse(path: Path, registry: Registry | None = None, sheet: str | None = None,
            folder: str | None = None, arrived: datetime | None = None) -> Suggestion:
    """Read ``path`` and propose how each of its columns maps to the registry."""
    file_format = _format_for(path)
    grid = read_grid(path, file_format)
    grid_rows: dict[str, list[tuple[int, list]]] = {}
    for row in grid.table.to_pylist():
        grid_rows.setdefault(row["sheet"], []).append((row["row_number"], row["cells"]))
    if sheet is not None and sheet not in grid_rows:
        raise ValueError(f"sheet {sheet!r} is not in the file; it has "
                         + ", ".join(repr(s) for s in grid_rows))
    vocabulary = Vocabulary.of(registry)
    candidates = header_candidates(grid_rows, vocabulary, sheet)
    if not candidates:
        raise ValueError("no row in the first rows looks like a header (two or more text "
                         "cells)")
    best = candidates[0]
    rows = grid_rows[best.sheet]
    index = next(i for i, (n, _) in enumerate(rows) if n == best.row_number)
    following = rows[index + 1][1] if index + 1 < len(rows) else None
    header = build_header(best.sheet, best.row_number, rows[index][1], following)
    data = [cells for n, cells in rows if n > header.data_after]
    columns = _columns(header, data)
    suggestion = Suggestion(file_format, best.sheet, best.row_number,
                            header.data_after if header.data_after != best.row_number else None,
                            [c for c in columns if c.header or c.tag], candidates[:3])
    if suggestion.unsure:
        suggestion.notes.append("header: not sure; candidates " + "; ".join(
            c.describe() for c in candidates[:3]) + " (choose with --sheet)")
    elif len(grid_rows) > 1:
        suggestion.notes.append(f"header: {best.describe()}; other sheets score lower")
    arrival = arrived or datetime.fromtimestamp(path.stat().st_mtime, UTC)
    # A file in a sub-folder of the partner's inbox folder: the sub-folder is its reporting
    # unit (inbox/family_hub/north_east_hub/...).
    suggestion.unit_from_folder = bool(folder) and path.parent.name != folder and \
        path.parent.parent.name == folder
    if suggestion.unit_from_folder:
        suggestion.notes.append(f"reporting_unit: the sub-folder {path.parent.name!r} below "
                                f"the inbox folder {folder!r} names the office or project that "
                                "sent it (folder: true)")
    _guess_roles(suggestion, vocabulary, registry, data, folder, path.name, arrival)
    return suggestion


def _columns(header, data: list[list]) -> list[Column]:
    width = max(len(header.texts), len(header.tags))
    columns = []
    for position in range(1, width + 1):
        values = [str(c[position - 1]).strip() for c in data
                  if position <= len(c) and c[position - 1] is not None
                  and str(c[position - 1]).strip()]
        # Cells that report nothing ('-', 'n/a') do not make a column of numbers text.
        reported = [v for v in values if normalise(v) not in NOTHING_CELLS]
        share = sum(_is_number(v) for v in reported) / len(reported) if reported else 0.0
        columns.append(Column(
            position, header.texts[position - 1] if position <= len(header.texts) else "",
            header.tags[position - 1] if position <= len(header.tags) else "",
            list(dict.fromkeys(values))[:200], share, len(values)))
    return columns


def _role_score(role: str, column: Column, vocabulary: Vocabulary) -> int:
    score = 0
    words = _words(column.header)
    if words in ROLE_WORDS[role]:
        score += 3
    elif any(word in words.split() for word in ROLE_WORDS[role] if " " not in word):
        score += 1
    tag = hxl_parts(column.tag)
    if tag and tag[0] in ROLE_TAGS.get(role, set()):
        score += 3
    if role == "value" and column.numeric_share < NUMERIC:
        return 0
    if role in ("place", "partner") and vocabulary.lookup:
        known = sum(normalise(v) in vocabulary.lookup.get(role, {}) for v in column.samples[:50])
        score += 4 if known else 0
    if role == "indicator" and vocabulary.indicator_texts:
        known = sum(_indicator_of(v, vocabulary) is not None for v in column.samples[:50])
        score += 4 if known else 0
    if role == "period" and column.samples and column.numeric_share < NUMERIC and all(
            _reads_as_period(v) for v in column.samples[:30]):
        score += 2
    return score


def _reads_as_period(text: str) -> bool:
    return parse_period(text, PERIOD_CANDIDATES + DEFAULT_FORMATS["month"], 2000) is not None \
        or bool(re.fullmatch(r"\d{4}-?W\d{1,2}|W\d{1,2}\D+\d{4}", text.strip()))


def _indicator_of(text: str, vocabulary: Vocabulary) -> str | None:
    """The indicator a value names: a name, alias or code as written, or contained in it
    ('CLEDU/CA1.01: Iniciativas ...' names the indicator 'CA1.01: Iniciativas ...')."""
    key = normalise(text)
    if key in vocabulary.indicator_texts:
        return vocabulary.indicator_texts[key]
    contained = {code for name, code in vocabulary.indicator_texts.items()
                 if len(name) >= 6 and name in key}
    return contained.pop() if len(contained) == 1 else None


def _guess_roles(suggestion: Suggestion, vocabulary: Vocabulary, registry: Registry | None,
                 data: list[list], folder: str | None, file_name: str,
                 arrival: datetime) -> None:
    taken: set[int] = set()
    for column in suggestion.columns:  # identifiers are never values, however numeric
        words = set(_words(column.header).split()) | {_words(column.header)}
        if words & IDENTIFIER_WORDS or re.search(r"(?:^|[\s_])id$", column.header.strip(),
                                                 re.IGNORECASE):
            if column.numeric_share >= NUMERIC:
                taken.add(column.position)
                suggestion.ignored[column.position] = "an identifier, not a value"
                suggestion.notes.append(f"ignored: {column.reference!r} identifies something "
                                        "(its header says so): not a value, however numeric")
    _guess_period_headers(suggestion, taken, file_name)
    for role in ("period", "indicator", "place", "partner", "combo", "value"):
        if role == "period" and suggestion.period_headers:
            continue
        scored = sorted(((_role_score(role, c, vocabulary), -c.position, c)
                         for c in suggestion.columns if c.position not in taken),
                        key=lambda s: s[:2], reverse=True)
        candidates = [(score, column) for score, _, column in scored if score >= 2]
        if role == "partner":
            candidates = _partner_candidates(suggestion, candidates, registry, folder)
        elif role == "place" and vocabulary.lookup:
            # Of two place columns (a name and a code), the one more of whose values are known,
            # then the code (codes are steadier than spellings).
            candidates.sort(key=lambda item: (-item[0], -sum(
                normalise(v) in vocabulary.lookup.get("place", {})
                for v in item[1].samples[:200]), not _names_codes(item[1])))
        if candidates:
            column = candidates[0][1]
            suggestion.roles[role] = column
            taken.add(column.position)
            suggestion.notes.append(f"{role}: {column.reference!r} ({_why(role, column)})")
    if not suggestion.period_headers:
        _guess_period(suggestion, file_name, arrival, data)
    _guess_levels(suggestion, registry, taken, data)
    _guess_sites(suggestion, taken, data)
    _guess_empty_values(suggestion, data)
    if registry:
        value = suggestion.roles.get("value")
        breakdown_columns = [c for c in suggestion.columns if c.position not in taken
                             and c.numeric_share >= NUMERIC
                             and _categories_in(c.header, vocabulary)]
        if value is not None and len(breakdown_columns) >= 2:
            # Breakdown columns beside a total: read the breakdowns (wide), not the total.
            del suggestion.roles["value"]
            taken.discard(value.position)
            suggestion.notes.append(f"layout: wide, {len(breakdown_columns)} columns name "
                                    f"breakdowns; not {value.reference!r} as the value")
        if "value" not in suggestion.roles or "indicator" not in suggestion.roles:
            _guess_wide(suggestion, vocabulary, taken, data)
        indicator = suggestion.roles.get("indicator")
        named = [i for _, i, _ in suggestion.wide_values]
        if indicator is not None and named and all(named) and not any(
                _indicator_of(v, vocabulary) for v in indicator.samples[:200]):
            # An 'Activity' column whose texts name no indicator, beside value columns whose
            # headers do: it says what was done, not what is counted.
            del suggestion.roles["indicator"]
            taken.discard(indicator.position)
            suggestion.ignored[indicator.position] = "its texts name no indicator"
            suggestion.notes.append(f"indicator: not {indicator.reference!r} (its texts name no "
                                    "indicator); the value columns' headers name theirs")
        _guess_breakdowns(suggestion, registry, taken)
    _guess_codes(suggestion, vocabulary)
    used = taken | {c.position for c, _, _ in suggestion.wide_values} | {
        c.position for c in suggestion.breakdowns.values()}
    for column in suggestion.columns:
        if column.position not in used:
            suggestion.ignored.setdefault(column.position, "no role found")


def _names_codes(column: Column) -> bool:
    tag = hxl_parts(column.tag)
    return bool({"code", "codigo", "cod", "id", "pcode"} & set(_words(column.header).split())
                or (tag and "code" in tag[1]))


def _why(role: str, column: Column) -> str:
    reasons = []
    words = _words(column.header)
    if words in ROLE_WORDS[role] or any(w in words.split() for w in ROLE_WORDS[role]
                                        if " " not in w):
        reasons.append("its header names it")
    tag = hxl_parts(column.tag)
    if tag and tag[0] in ROLE_TAGS.get(role, set()):
        reasons.append(f"hashtag {column.tag}")
    if role in ("place", "partner", "indicator") and column.samples:
        reasons.append("its values are registry names")
    if role == "period":
        reasons.append("its values read as periods")
    if role == "value":
        reasons.append("numbers")
    return ", ".join(dict.fromkeys(reasons)) or "best match"


def _partner_candidates(suggestion: Suggestion, candidates: list, registry: Registry | None,
                        folder: str | None) -> list:
    """A column naming one organisation for the whole file (the lead organisation of every
    office's file) does not say who reported: the inbox folder does, when it is a partner."""
    folder_is_partner = bool(registry and folder and folder in registry.partner_by_code)
    kept = []
    for score, column in candidates:
        words = set(_words(column.header).split())
        if folder_is_partner and len(column.samples) <= 1:
            suggestion.notes.append(
                f"partner: not {column.reference!r}, which names one organisation for the "
                f"whole file; the inbox folder '{folder}' is the partner")
            continue
        lead = bool(words & LEAD_WORDS)
        kept.append((score - (2 if lead else 0), len(column.samples), column))
    kept.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [(score, column) for score, _, column in kept]


def _guess_period_headers(suggestion: Suggestion, taken: set[int], file_name: str) -> None:
    """Months (or weeks) as columns: three or more numeric columns whose headers read as
    periods (Jan ... Dec, 2025-01 ...): one value entry reads them all (period_headers)."""
    readable = [c for c in suggestion.columns if c.position not in taken and c.header.strip()
                and c.numeric_share >= NUMERIC and _reads_as_period(c.header)]
    if len(readable) < 3:
        return
    suggestion.period_headers = readable
    taken.update(c.position for c in readable)
    headers = ", ".join(repr(c.header) for c in readable[:4]) + (", ..." if len(readable) > 4
                                                                  else "")
    suggestion.notes.append(f"periods as columns: {len(readable)} headers read as periods "
                            f"({headers}): values: [{{period_headers: true, ...}}]")
    if all(parse_period(c.header, DEFAULT_FORMATS["month"]) is None
           and parse_period(c.header, PERIOD_CANDIDATES) is None for c in readable):
        year, source = _year_for(file_name, suggestion.sheet, None)
        if year is None:
            suggestion.period_default_year = "TODO"
            suggestion.notes.append("period: the headers give no year and neither does the "
                                    "file's or the sheet's name: give period_default_year")
        else:
            suggestion.notes.append(f"period: the headers give no year; {year} from {source} "
                                    "(read from the name whenever period_default_year is not "
                                    "set)")


def _guess_levels(suggestion: Suggestion, registry: Registry | None, taken: set[int],
                  data: list[list]) -> None:
    """A column saying each row's level (Province, Region, National): the rows above the most
    common level are the file's own totals - summary_rows, unless the registry's place levels
    already recognise them."""
    for column in suggestion.columns:
        if column.position in taken or column.numeric_share >= NUMERIC:
            continue
        if _words(column.header) not in LEVEL_WORDS or not 2 <= len(column.samples) <= 6:
            continue
        counts = {value: 0 for value in column.samples}
        for row in data:
            cell = row[column.position - 1] if column.position <= len(row) else None
            if cell is not None and str(cell).strip() in counts:
                counts[str(cell).strip()] += 1
        lowest = max(column.samples, key=lambda v: counts[v])
        above = [v for v in column.samples if v != lowest]
        if registry is not None and registry.place_tree.has_levels:
            suggestion.ignored[column.position] = "the level of each row"
            suggestion.notes.append(
                f"levels: {column.reference!r} says each row's level; rows for places above "
                "others in the same file are recognised as its totals by the registry's place "
                "hierarchy (no summary_rows needed)")
        else:
            suggestion.summary_rows[column.reference] = above
            taken.add(column.position)
            suggestion.notes.append(
                f"summary_rows: {column.reference!r} rows at {', '.join(map(repr, above))} "
                f"are the file's own totals of its {lowest!r} rows (Murmuration adds those up "
                "itself)")
        return


def _guess_sites(suggestion: Suggestion, taken: set[int], data: list[list]) -> None:
    """A column naming one site whose values repeat (several activity rows per site): the 3W/
    4W rule counts the most per site, then adds the sites up (dedupe_by, duplicate_keys:
    max)."""
    for column in suggestion.columns:
        if column.position in taken or column.numeric_share >= NUMERIC or not column.samples:
            continue
        words = _words(column.header)
        if words not in SITE_WORDS and not set(words.split()) & {"site", "camp", "facility"}:
            continue
        if column.filled <= len(column.samples):  # every site once: nothing to combine
            continue
        suggestion.dedupe_by.append(column)
        taken.add(column.position)
        suggestion.notes.append(
            f"dedupe_by: {column.reference!r} names a site and repeats ({column.filled} rows, "
            f"{len(column.samples)} sites): the activities of one site reach the same people, "
            "so the most per site counts (duplicate_keys: max) and the sites add up")
        return


def _guess_empty_values(suggestion: Suggestion, data: list[list]) -> None:
    """Cells that mean 'reported nothing' ('-', 'n/a', 's/d'): the default empty_values read
    the usual ones; others the file uses are proposed."""
    seen = {normalise(str(cell)) for row in data for cell in row
            if cell is not None and str(cell).strip()} & NOTHING_CELLS
    if seen - DEFAULT_NOTHING:
        suggestion.empty_values = sorted(DEFAULT_NOTHING | seen)
        suggestion.notes.append("empty_values: the file writes " + ", ".join(
            repr(v) for v in sorted(seen)) + " for 'reported nothing'")
    elif seen:
        suggestion.notes.append("empty_values: " + ", ".join(repr(v) for v in sorted(seen))
                                + " read as 'reported nothing' (the default)")


def _guess_period(suggestion: Suggestion, file_name: str, arrival: datetime,
                  data: list[list] | None = None) -> None:
    """The formats the period column needs (none when the defaults and month names read every
    text), and the year when its texts give none, each with its reason."""
    column = suggestion.roles.get("period")
    if column is None:
        suggestion.notes.append("period: no column found; if the month is in the file or sheet "
                                "name, use period_fallback: [file_name]")
        return
    samples = column.samples[:100]
    defaults = DEFAULT_FORMATS["month"]
    if all(parse_period(s, defaults) for s in samples):
        example = samples[0] if samples else ""
        suggestion.notes.append(f"period formats: none needed, the defaults and month names read "
                                f"every text (e.g. {example!r} -> "
                                f"{parse_period(example, defaults):%Y-%m})" if samples else
                                "period formats: no values to judge")
        return
    if samples and all(parse_period(s, [], 2000) for s in samples) and not any(
            parse_period(s, []) for s in samples):
        year, source = _year_for(file_name, suggestion.sheet, data)
        if year is None:
            suggestion.period_default_year = "TODO"
            suggestion.notes.append(f"period: month names without a year ({samples[0]!r}), and "
                                    "neither the file's name, its sheet nor its dates give one: "
                                    "give period_default_year (the file's arrival is no guide: "
                                    "history is often loaded long after)")
        else:
            suggestion.period_default_year = year
            suggestion.notes.append(f"period: month names without a year ({samples[0]!r}); "
                                    f"period_default_year {year} from {source}")
        return
    for fmt in PERIOD_CANDIDATES + ["iso_week", "week_year", "excel_serial"]:
        if samples and all(parse_period(s, [fmt]) for s in samples):
            suggestion.period_formats = [fmt]
            suggestion.notes.append(f"period formats: {fmt!r} reads every text (e.g. "
                                    f"{samples[0]!r})")
            return
    unread = [s for s in samples if not any(parse_period(s, [f]) for f in PERIOD_CANDIDATES)]
    suggestion.notes.append("period formats: none found that reads every text; not read: "
                            + ", ".join(repr(s) for s in unread[:5]))


def _year_for(file_name: str, sheet: str, data: list[list] | None
              ) -> tuple[int | None, str | None]:
    """The year the file's name, its sheet's name or its dates give (one year), never its
    arrival (history is loaded long after it was sent)."""
    for text, source in ((file_name, "the file name"), (sheet, "the sheet name")):
        match = re.search(r"(?<!\d)(19\d\d|20\d\d)(?!\d)", text or "")
        if match:
            return int(match[1]), f"{source} ({text!r})"
    years = set()
    for row in data or []:
        for cell in row:
            found = re.fullmatch(r"((?:19|20)\d\d)-\d\d-\d\d(?: .*)?", str(cell or "").strip())
            if found:
                years.add(int(found[1]))
    if len(years) == 1:
        year = years.pop()
        return year, f"the dates in the file ({year})"
    return None, None


def _guess_wide(suggestion: Suggestion, vocabulary: Vocabulary, taken: set[int],
                data: list[list]) -> None:
    """Numeric columns whose header names an indicator and/or breakdown categories; a column
    that only totals the breakdown columns is left out, as are numbers that name neither (when
    a column names the row's indicator)."""
    has_indicator_column = "indicator" in suggestion.roles
    numeric = [c for c in suggestion.columns
               if c.position not in taken and c.numeric_share >= NUMERIC and c.filled]
    named = {c.position: (_indicator_in_header(c.header, vocabulary),
                          _categories_in(c.header, vocabulary)) for c in numeric}
    breakdowns = [c for c in numeric if named[c.position][1]]
    for column in numeric:
        (indicator, unit), parts = named[column.position]
        says_total = bool(set(_words(column.header).split()) & TOTAL_WORDS)
        if says_total and not parts and breakdowns and _is_row_total(column, breakdowns, data):
            suggestion.ignored[column.position] = "the total of the breakdown columns"
            suggestion.notes.append(f"ignored: {column.reference!r} adds up the breakdown "
                                    "columns (mapping it too would count people twice)")
            continue
        if indicator and unit:
            suggestion.units[indicator] = unit
            suggestion.notes.append(f"units: {column.reference!r} reports {indicator} in "
                                    f"{unit}, converted by the registry's units")
        if indicator or parts or not has_indicator_column:
            suggestion.wide_values.append((column, indicator, parts))
        else:
            suggestion.ignored[column.position] = "numbers that name no indicator or breakdown"


def _is_row_total(total: Column, parts: list[Column], data: list[list]) -> bool:
    """The column equals the sum of the breakdown columns in (almost) every row."""
    def number(row, position):
        cell = row[position - 1] if position <= len(row) else None
        return float(str(cell).replace(",", "")) if cell is not None and _is_number(
            str(cell)) else 0.0
    rows = [row for row in data if total.position <= len(row)
            and row[total.position - 1] is not None and _is_number(str(row[total.position - 1]))]
    if not rows:
        return False
    equal = sum(abs(number(row, total.position) - sum(number(row, c.position) for c in parts))
                < 1e-6 for row in rows)
    return equal >= 0.95 * len(rows)


def _indicator_in_header(header: str, vocabulary: Vocabulary) -> tuple[str | None, str | None]:
    """The indicator a value column's header names, and the unit it is counted in when the
    header says one the registry converts ('Shared reading (minutes)', 'Minutes of reading
    sessions' -> reading_hours, minutes)."""
    unit_words = {word for conversions in vocabulary.conversions.values() for word in conversions}
    text = normalise(re.sub(r"[(\[\])]", " ", header))
    words = {_singular(w) for w in re.findall(r"[a-z0-9]+", text) if len(w) > 2}
    said_units = words & unit_words
    words -= unit_words
    indicator = vocabulary.indicator_texts.get(normalise(header))
    if indicator is None and words:
        matches = {code for name, code in vocabulary.indicator_texts.items()
                   if words <= {_singular(w) for w in re.findall(r"[a-z0-9]+", name)}}
        indicator = matches.pop() if len(matches) == 1 else None
    unit = None
    if indicator:
        conversions = vocabulary.conversions.get(indicator, {})
        unit = next((conversions[w] for w in sorted(said_units) if w in conversions), None)
    return indicator, unit


def _categories_in(header: str, vocabulary: Vocabulary) -> dict[str, str]:
    """The breakdown categories a header names: category names, aliases and codes as words
    ('Girls', 'F'), and an age range ('0-4', '+18', '(18+)', 'mayores de 19')."""
    plain = _words(header)
    tokens = plain.split()
    parts: dict[str, str] = {}
    found_range = age_range(header)  # an explicit range wins over what a word implies
    if found_range and found_range in vocabulary.ranges:
        dimension, category = vocabulary.ranges[found_range]
        parts[dimension] = category
    for text, named in sorted(vocabulary.categories.items(), key=lambda item: -len(item[0])):
        if not text:
            continue
        if " " in text or not text.isalnum():
            found = re.search(rf"(?<![\w+]){re.escape(text)}(?![\w+])", plain)
        else:
            found = text in tokens
        if found:
            for dimension, category in named:
                parts.setdefault(dimension, category)
    return parts


def _guess_breakdowns(suggestion: Suggestion, registry: Registry, taken: set[int]) -> None:
    """Text columns whose values are mostly categories of one dimension (Girls/Boys -> sex)."""
    taken |= {c.position for c, _, _ in suggestion.wide_values}
    for dimension in registry.dimensions.disaggregations:
        names = {normalise(t) for c in dimension.categories for t in (c.code, c.name, *c.aliases)}
        for column in suggestion.columns:
            if column.position in taken or not column.samples or column.numeric_share >= NUMERIC:
                continue
            known = sum(normalise(v) in names for v in column.samples)
            if known * 2 >= len(column.samples):
                suggestion.breakdowns[dimension.code] = column
                taken.add(column.position)
                suggestion.notes.append(f"breakdown {dimension.code}: {column.reference!r} "
                                        f"(its values are {dimension.name.lower()} categories)")
                break


def _guess_codes(suggestion: Suggestion, vocabulary: Vocabulary) -> None:
    """For the place, partner and indicator columns: which texts resolve (and, for indicators
    named inside a longer text, to what), which are totals, which are left for a person."""
    for role in ("place", "partner", "indicator"):
        column = suggestion.roles.get(role)
        if column is None or not vocabulary.lookup:
            continue
        resolved, unresolved, totals = {}, [], []
        for value in column.samples:
            key = normalise(value)
            if key in vocabulary.lookup.get(role, {}):
                continue  # the registry knows it as written: nothing to map
            if role == "indicator" and _indicator_of(value, vocabulary):
                resolved[value] = _indicator_of(value, vocabulary)
            elif _words(value) in TOTAL_WORDS:
                totals.append(value)
            else:
                unresolved.append(value)
        suggestion.resolved[role] = resolved
        suggestion.unresolved[role] = unresolved[:50]
        if totals:
            suggestion.summary_rows[role] = totals
            suggestion.notes.append(f"summary_rows: {role} {', '.join(map(repr, totals))} "
                                    "(a total row, not data)")


# --- the draft as YAML -----------------------------------------------------------------------

def suggestion_yaml(suggestion: Suggestion, folder: str, file_name: str) -> str:
    """The draft mapping as commented YAML for a person to review."""
    roles = suggestion.roles
    name = re.sub(r"[^a-z0-9_]", "_", f"{folder}_{suggestion.file_format.value}".lower())
    mapping: dict = {
        "name": name,
        "description": f"Drafted by `murmuration mapping suggest` from {file_name}; review it.",
        "applies_to": {"folders": [folder],
                       "files": ["*" + Path(file_name).suffix.lower()]},
        "reader": {"header_row": suggestion.header_row}
        | ({"sheet": suggestion.sheet} if suggestion.file_format is FileFormat.EXCEL else {}),
    }
    wide = "value" not in roles and bool(suggestion.wide_values or suggestion.period_headers)
    if wide:
        mapping["layout"] = "wide"
    if "partner" in roles:
        mapping["partner"] = {"column": roles["partner"].reference}
    columns: dict = {}
    for role in ("period", "place", "indicator", "combo"):
        if role in roles and not (wide and role == "indicator" and all(
                i for _, i, _ in suggestion.wide_values)):
            columns[role] = roles[role].reference
    if "value" in roles and not wide:
        columns["value"] = roles["value"].reference
    if suggestion.breakdowns:
        columns["disaggregations"] = {d: c.reference for d, c in suggestion.breakdowns.items()}
    if not suggestion.period_headers:
        columns.setdefault("period", "TODO: the column holding the period")
    if not wide:
        columns.setdefault("value", "TODO: the column holding the value")
        if "indicator" not in columns:
            columns["indicator"] = "TODO: the column naming the indicator (or use fixed)"
    mapping["columns"] = columns
    if "partner" not in roles and suggestion.unit_from_folder:
        mapping["reporting_unit"] = {"folder": True}
    if wide:
        mapping["values"] = [
            {"column": column.reference}
            | ({"indicator": indicator or "TODO"} if indicator or "indicator" not in columns
               else {})
            | ({"disaggregation": parts} if parts else {})
            for column, indicator, parts in suggestion.wide_values
            if column not in suggestion.period_headers]
        if suggestion.period_headers:
            mapping["values"].append({"period_headers": True}
                                     | ({} if "indicator" in columns else {"indicator": "TODO"}))
    if suggestion.dedupe_by:
        mapping["dedupe_by"] = [c.reference for c in suggestion.dedupe_by]
        mapping["duplicate_keys"] = "max"
    if suggestion.empty_values:
        mapping["empty_values"] = suggestion.empty_values
    if suggestion.period_formats:
        mapping["period_formats"] = suggestion.period_formats
    if suggestion.period_default_year:
        mapping["period_default_year"] = suggestion.period_default_year
    codes: dict = {}
    for role, texts in suggestion.resolved.items():
        if texts:
            codes.setdefault(role, {}).update(texts)
    for role, texts in suggestion.unresolved.items():
        if texts and role != "partner":
            codes.setdefault(role, {}).update({text: "TODO" for text in texts[:30]})
    if codes:
        mapping["codes"] = codes
    if suggestion.units:
        mapping["units"] = dict(suggestion.units)
    if suggestion.summary_rows:
        mapping["summary_rows"] = [{"column": role, "values": values}
                                   for role, values in suggestion.summary_rows.items()]
    used = {c.position for c in [*suggestion.period_headers, *suggestion.dedupe_by]}
    used |= {c.position for role in suggestion.summary_rows for c in suggestion.columns
             if c.reference == role}
    ignored = [c.reference for c in suggestion.columns if c.position in suggestion.ignored
               and c.position not in used]
    if ignored:  # the template's other columns: known, deliberately not read
        mapping["ignore_columns"] = ignored
    body = yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True, width=100)
    notes = [f"# Draft mapping for {file_name} ({suggestion.file_format.value}), sheet "
             f"{suggestion.sheet or '-'}, header on row {suggestion.header_row}"
             + (f", HXL hashtags on row {suggestion.hxl_row}" if suggestion.hxl_row else "")
             + "."]
    notes += [f"# - {note}" for note in suggestion.notes]
    if ignored:
        notes.append(f"# {len(ignored)} columns are not read (ignore_columns): map any that "
                     "carries a value or a breakdown.")
    for role, texts in suggestion.unresolved.items():
        if texts and role == "partner":
            notes.append("# Organisations not yet in registry/partners.yaml (add as aliases): "
                         + ", ".join(repr(t) for t in texts[:20]))
    if any("TODO" in texts.values() for texts in codes.values()):
        notes.append("# Replace each TODO under codes with a registry code, or remove the line "
                     "if the registry already knows the text (as a name or alias).")
    notes.append("# Then: murmuration mapping check --project <initiative> <file>")
    return "\n".join(notes) + "\n" + body
