"""Onboarding a partner format: propose a mapping from an unseen file, then check a mapping
against a sample file before any real submission goes through it.

``suggest`` reads the file with the same readers as landing, finds the header row (and an HXL
row under it), guesses each column's role from its header text, its hashtag and its values, and
matches header texts and values against the registry. The result is a draft for a person to
review, never applied silently.

``check`` runs the real pipeline steps (landing, the mapping, the dbt models) on the sample in a
scratch folder and reports the header it found, unused and missing columns, and every value that
does not resolve, with the reason the pipeline would give.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import yaml

from murmuration.environment import ensure_dbt_manifest, run_dbt
from murmuration.intake.extract import extract_submission, load_extraction
from murmuration.intake.header import build_header, hxl_parts
from murmuration.intake.landing import file_sha256, land_file
from murmuration.intake.readers import read_grid
from murmuration.paths import ProjectPaths
from murmuration.registry import Registry
from murmuration.registry.loader import normalise
from murmuration.registry.mapping import EXTENSION_FORMATS, FileFormat
from murmuration.warehouse import code_lookup, prepare_sources

ROLE_WORDS = {
    "period": ["month", "period", "date", "reporting month", "week", "pe", "mes", "fecha",
               "mes reportado", "periodo", "semana", "mois", "periode", "date de rapport"],
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
                     "%b %Y", "%B %Y", "%b %y", "%B", "%b", "%d/%m/%Y %H:%M"]
HEADER_ROWS = 30


@dataclass
class Column:
    position: int
    header: str
    tag: str
    samples: list[str]
    numeric_share: float


@dataclass
class Suggestion:
    file_format: FileFormat
    sheet: str
    header_row: int
    hxl_row: int | None
    columns: list[Column]
    roles: dict[str, Column] = field(default_factory=dict)
    wide_values: list[tuple[Column, str | None, dict[str, str]]] = field(default_factory=list)
    breakdowns: dict[str, Column] = field(default_factory=dict)
    period_formats: list[str] = field(default_factory=list)
    unresolved: dict[str, list[str]] = field(default_factory=dict)
    resolved: dict[str, dict[str, str]] = field(default_factory=dict)


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"-?[0-9][0-9,]*(\.[0-9]+)?", text.strip()))


def _header_score(cells: list) -> int:
    texts = [str(c).strip() for c in cells if c is not None and str(c).strip()]
    return sum(1 for t in texts if not _is_number(t) and not t.startswith("#")
               and len(t) < 120)


def _pick_header(grid_rows: dict[str, list[tuple[int, list]]]) -> tuple[str, int]:
    """The row with the most short text cells, in the sheet whose best row has most."""
    best = ("", 1, -1)
    for sheet, rows in grid_rows.items():
        for row_number, cells in rows[:HEADER_ROWS]:
            score = _header_score(cells)
            if score > best[2]:
                best = (sheet, row_number, score)
    return best[0], best[1]


def _format_for(path: Path) -> FileFormat:
    file_format = EXTENSION_FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise ValueError(f"{path.name}: files ending in '{path.suffix}' are not read; send CSV, "
                         "Excel (.xlsx) or DHIS2 JSON")
    return file_format


def analyse(path: Path, registry: Registry | None = None) -> Suggestion:
    file_format = _format_for(path)
    grid = read_grid(path, file_format)
    grid_rows: dict[str, list[tuple[int, list]]] = {}
    for row in grid.table.to_pylist():
        grid_rows.setdefault(row["sheet"], []).append((row["row_number"], row["cells"]))
    sheet, header_row = _pick_header(grid_rows)
    rows = grid_rows[sheet]
    index = next(i for i, (n, _) in enumerate(rows) if n == header_row)
    following = rows[index + 1][1] if index + 1 < len(rows) else None
    header = build_header(sheet, header_row, rows[index][1], following)
    data = [cells for n, cells in rows if n > header.data_after]
    width = max(len(header.texts), len(header.tags))
    columns = []
    for position in range(1, width + 1):
        values = [str(c[position - 1]).strip() for c in data
                  if position <= len(c) and c[position - 1] is not None
                  and str(c[position - 1]).strip()]
        share = sum(_is_number(v) for v in values) / len(values) if values else 0.0
        distinct = list(dict.fromkeys(values))
        columns.append(Column(position, header.texts[position - 1] if position <= len(
            header.texts) else "", header.tags[position - 1] if position <= len(header.tags)
            else "", distinct[:200], share))
    suggestion = Suggestion(file_format, sheet, header_row,
                            header.data_after if header.data_after != header_row else None,
                            [c for c in columns if c.header or c.tag])
    _guess_roles(suggestion, registry)
    return suggestion


def _words(text: str) -> str:
    return normalise(re.sub(r"[^\w\s]", " ", text or ""))


def _guess_roles(suggestion: Suggestion, registry: Registry | None) -> None:
    lookup = _registry_lookup(registry) if registry else {}
    taken: set[int] = set()
    for role in ("period", "partner", "place", "indicator", "combo", "value"):
        best, best_score = None, 0
        for column in suggestion.columns:
            if column.position in taken:
                continue
            score = 0
            words = _words(column.header)
            if words in ROLE_WORDS[role]:
                score += 3
            elif any(word in words.split() for word in ROLE_WORDS[role] if " " not in word):
                score += 1
            tag = hxl_parts(column.tag)
            if tag and tag[0] in ROLE_TAGS.get(role, set()):
                score += 3
            if role == "value" and column.numeric_share < 0.8:
                score = 0
            if role in ("place", "partner", "indicator") and lookup:
                known = sum(normalise(v) in lookup.get(role, {}) for v in column.samples[:50])
                score += 4 if known else 0
            if role == "period" and _period_formats(column.samples[:30]):
                score += 2
            if score > best_score:
                best, best_score = column, score
        if best is not None and best_score >= 2:
            suggestion.roles[role] = best
            taken.add(best.position)
    if "period" in suggestion.roles:
        suggestion.period_formats = _period_formats(suggestion.roles["period"].samples[:50])
    if registry and ("value" not in suggestion.roles or "indicator" not in suggestion.roles):
        _guess_wide(suggestion, registry, taken)
    if registry:
        _guess_breakdowns(suggestion, registry, taken)
    for role in ("place", "partner", "indicator"):
        column = suggestion.roles.get(role)
        if column is None or not lookup:
            continue
        resolved = {v: lookup[role][normalise(v)] for v in column.samples
                    if normalise(v) in lookup.get(role, {})}
        suggestion.resolved[role] = resolved
        suggestion.unresolved[role] = [v for v in column.samples if v not in resolved][:50]


def _guess_wide(suggestion: Suggestion, registry: Registry, taken: set[int]) -> None:
    """Numeric columns whose header names an indicator and/or breakdown categories."""
    indicators = {normalise(t): i.code for i in registry.reported_indicators
                  for t in (i.code, i.name, i.label)}
    categories = {normalise(t): (d.code, c.code) for d in registry.dimensions.disaggregations
                  for c in d.categories for t in (c.code, c.name, *c.aliases)}
    for column in suggestion.columns:
        if column.position in taken or column.numeric_share < 0.8:
            continue
        text = normalise(column.header)
        indicator = next((code for name, code in indicators.items() if name and name in text),
                         None)
        parts = {}
        for token in re.split(r"[\s/_]+", text):
            if token in categories:
                dimension, category = categories[token]
                parts[dimension] = category
        if indicator or parts:
            suggestion.wide_values.append((column, indicator, parts))


def _guess_breakdowns(suggestion: Suggestion, registry: Registry, taken: set[int]) -> None:
    """Text columns whose values are mostly categories of one dimension (Girls/Boys -> sex)."""
    taken |= {c.position for c, _, _ in suggestion.wide_values}
    for dimension in registry.dimensions.disaggregations:
        names = {normalise(t) for c in dimension.categories for t in (c.code, c.name, *c.aliases)}
        for column in suggestion.columns:
            if column.position in taken or not column.samples:
                continue
            known = sum(normalise(v) in names for v in column.samples)
            if known * 2 >= len(column.samples):
                suggestion.breakdowns[dimension.code] = column
                taken.add(column.position)
                break


def _period_formats(samples: list[str]) -> list[str]:
    chosen = []
    for fmt in PERIOD_CANDIDATES:
        parsed = 0
        for text in samples:
            try:
                datetime.strptime(text.strip(), fmt)
                parsed += 1
            except ValueError:
                pass
        if samples and parsed == len(samples):
            chosen.append(fmt)
    if not chosen and samples:
        if all(re.fullmatch(r"\d{4}-?W\d{1,2}", s) for s in samples):
            chosen.append("iso_week")
        elif all(re.search(r"W\d{1,2}\D+\d{4}", s) for s in samples):
            chosen.append("week_year")
        elif all(re.fullmatch(r"\d{5}(\.0+)?", s) for s in samples):
            chosen.append("excel_serial")
    return chosen[:2]


def _registry_lookup(registry: Registry) -> dict[str, dict[str, str]]:
    lookup: dict[str, dict[str, str]] = {}
    for entry in code_lookup(registry):
        if entry["mapping_name"] == "*":
            lookup.setdefault(entry["role"], {})[entry["text_key"]] = entry["code"]
    return lookup


def _reference(column: Column) -> str:
    return column.header if column.header.strip() else column.tag


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
    wide = "value" not in roles and bool(suggestion.wide_values)
    if wide:
        mapping["layout"] = "wide"
    if "partner" in roles:
        mapping["partner"] = {"column": _reference(roles["partner"])}
    columns: dict = {}
    for role in ("period", "place", "indicator", "combo"):
        if role in roles and not (wide and role == "indicator" and all(
                i for _, i, _ in suggestion.wide_values)):
            columns[role] = _reference(roles[role])
    if "value" in roles and not wide:
        columns["value"] = _reference(roles["value"])
    if suggestion.breakdowns:
        columns["disaggregations"] = {d: _reference(c) for d, c in suggestion.breakdowns.items()}
    columns.setdefault("period", "TODO: the column holding the period")
    if not wide:
        columns.setdefault("value", "TODO: the column holding the value")
        if "indicator" not in columns:
            columns["indicator"] = "TODO: the column naming the indicator (or use fixed)"
    mapping["columns"] = columns
    if wide:
        mapping["values"] = [
            {"column": _reference(column)}
            | ({"indicator": indicator or "TODO"} if indicator or "indicator" not in columns
               else {})
            | ({"disaggregation": parts} if parts else {})
            for column, indicator, parts in suggestion.wide_values]
    if suggestion.period_formats:
        mapping["period_formats"] = suggestion.period_formats
    codes = {role: {text: "TODO" for text in texts[:30]}
             for role, texts in suggestion.unresolved.items() if texts and role != "partner"}
    if codes:
        mapping["codes"] = codes
    used = {c.position for c in roles.values()} | {c.position for c, _, _ in
                                                   suggestion.wide_values} | {
        c.position for c in suggestion.breakdowns.values()}
    unused = [_reference(c) for c in suggestion.columns if c.position not in used]
    if unused:  # the template's other columns: known, deliberately not read
        mapping["ignore_columns"] = unused
    body = yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True, width=100)
    notes = [f"# Draft mapping for {file_name} ({suggestion.file_format.value}), sheet "
             f"{suggestion.sheet or '-'}, header on row {suggestion.header_row}"
             + (f", HXL hashtags on row {suggestion.hxl_row}" if suggestion.hxl_row else "")
             + "."]
    if unused:
        notes.append(f"# {len(unused)} columns are not read (ignore_columns): map any that "
                     "carries a value or a breakdown.")
    for role, texts in suggestion.unresolved.items():
        if texts and role == "partner":
            notes.append("# Organisations not yet in registry/partners.yaml (add as aliases): "
                         + ", ".join(repr(t) for t in texts[:20]))
    if codes:
        notes.append("# Replace each TODO under codes with a registry code, or remove the line "
                     "if the registry already knows the text (as a name or alias).")
    notes.append("# Then: murmuration mapping check --project <initiative> <file>")
    return "\n".join(notes) + "\n" + body


# --- check ----------------------------------------------------------------------------------

@dataclass
class CheckReport:
    mapping_name: str | None
    file_problem: str | None
    sheet: str | None = None
    header_row: int | None = None
    hxl_row: int | None = None
    data_rows: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    unused_columns: list[str] = field(default_factory=list)
    missing_value_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reasons: list[tuple[str, int, str]] = field(default_factory=list)  # reason, count, example
    empty_rows: int = 0
    summary_rows: int = 0  # quarantined as declared totals (summary_rows): expected, not errors
    unused_column_count: int = 0
    # period, the texts that resolved to it, rows, where it was read (cell, file or sheet name)
    periods: list[tuple[str, str, int, str]] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """Every row that carries values is accepted; declared totals and empty template rows
        are expected and do not hold a mapping back."""
        return self.file_problem is None and not self.missing_value_columns and \
            self.rows_quarantined == self.summary_rows

    def lines(self) -> list[str]:
        if self.mapping_name is None:
            return [f"No mapping: {self.file_problem}"]
        lines = [f"Mapping:  {self.mapping_name}"]
        if self.file_problem:
            lines.append(f"Problem:  {self.file_problem}")
        if self.header_row:
            lines.append(f"Header:   sheet {self.sheet or '-'}, row {self.header_row}"
                         + (f" (HXL hashtags on row {self.hxl_row})" if self.hxl_row else ""))
        lines.append(f"Rows:     {self.data_rows} data rows = {self.rows_accepted} accepted + "
                     f"{self.rows_quarantined} quarantined"
                     + (f" ({self.summary_rows} declared totals)" if self.summary_rows else ""))
        if self.empty_rows:
            lines.append(f"Empty:    {self.empty_rows} blank or empty template rows (not data)")
        if self.periods:
            lines.append("Periods:  " + "; ".join(
                f"{period} <- {texts} ({rows} row{'s' if rows != 1 else ''}"
                + (f", from the {source}" if source not in ("cell", None) else "") + ")"
                for period, texts, rows, source in self.periods))
        if self.unused_columns:
            lines.append("Unused columns: " + ", ".join(repr(c) for c in self.unused_columns[:40])
                         + (f" and {self.unused_column_count - 40:,} more"
                            if self.unused_column_count > 40 else ""))
        if self.missing_value_columns:
            lines.append("Value columns not found: "
                         + ", ".join(repr(c) for c in self.missing_value_columns))
        lines += [f"Warning: {warning}" for warning in self.warnings]
        if self.reasons:
            lines.append("Would be quarantined (reason, rows, example):")
            lines += [f"  {count:>5}  {reason}  [{example}]"
                      for reason, count, example in self.reasons]
        lines.append(("Ready: every row that carries values is accepted."
                      if self.rows_quarantined or self.empty_rows else
                      "Ready: every row is accepted.") if self.ready else
                     "Not ready: fix the mapping (codes, columns, formats) or the registry "
                     "(aliases, places, categories), then check again.")
        return lines


def period_warnings(periods: list[tuple]) -> list[str]:
    """Periods a person should look at before trusting a mapping: after the file arrived (an
    early or misread period) or more than a year before it (a wrong year, a stale file)."""
    warnings = []
    for period, texts, rows, _, start, arrived in periods:
        if start is None or arrived is None:
            continue
        arrived_day = arrived.date() if hasattr(arrived, "date") else arrived
        if start > arrived_day:
            warnings.append(f"period {period} ({texts}, {rows} rows) starts after the file "
                            f"arrived ({arrived_day}): an early report or a misread period")
        elif (arrived_day - start).days > 366:
            warnings.append(f"period {period} ({texts}, {rows} rows) is more than a year before "
                            f"the file arrived ({arrived_day}): check the year")
    return warnings


def check_mapping(paths: ProjectPaths, registry: Registry, sample: Path, folder: str
                  ) -> CheckReport:
    """Run landing, the mapping and the dbt models on ``sample`` in a scratch state folder."""
    mapping = registry.mapping_for(folder, sample.name)
    if mapping is None:
        return CheckReport(None, f"no mapping in {paths.mappings_dir} covers '{sample.name}' "
                                 f"in inbox folder '{folder}' (applies_to.folders / files)")
    scratch = Path(tempfile.mkdtemp(prefix="murmuration-check-"))
    try:
        check_paths = ProjectPaths.for_project(paths.project_dir, scratch)
        check_paths.ensure()
        submission = land_file(check_paths, registry, folder, sample, file_sha256(sample),
                               datetime.now().isoformat(timespec="seconds"))
        if submission.status != "landed":
            return CheckReport(mapping.name, f"{submission.status}: {submission.message}")
        extract_submission(check_paths, registry, submission)
        extraction = load_extraction(check_paths, submission.submission_id)
        prepare_sources(check_paths, registry, [submission])
        ensure_dbt_manifest()
        completed = run_dbt(check_paths, ["run", "--quiet", "--select",
                                          "+quarantined_values", "+submissions"])
        if completed.returncode != 0:
            raise RuntimeError("dbt failed during the check:\n" + completed.stdout[-3000:])
        con = duckdb.connect(str(check_paths.warehouse), read_only=True)
        try:
            accepted, quarantined = con.execute(
                "select rows_accepted, rows_quarantined from marts.submissions").fetchall()[0]
            summary_rows = con.execute(
                "select count(*) from intermediate.int_row_outcomes "
                "where any_quarantined and is_summary").fetchall()[0][0]
            periods = con.execute("""
                select coalesce(period, '(none)'),
                    string_agg(distinct coalesce(period_text, '(empty)'), ' | '),
                    count(distinct coalesce(sheet, '') || '/' || row_number),
                    any_value(period_source), min(period_start), any_value(arrived_at)
                from intermediate.int_records_resolved
                where extract_problem is null
                group by 1 order by 1""").fetchall()
            reasons = con.execute("""
                select quarantine_reason, count(distinct sheet || row_number),
                    arg_min(coalesce(nullif(sheet, '') || ', ', '') || 'row ' || row_number
                            || coalesce(', column ' || column_name, ''), row_number)
                from marts.quarantined_values group by 1 order by 2 desc, 1""").fetchall()
        finally:
            con.close()
        warnings = list(extraction.warnings) + period_warnings(periods)
        return CheckReport(
            mapping.name, extraction.problem, extraction.sheet, extraction.header_row,
            extraction.hxl_row, extraction.data_rows, accepted, quarantined,
            extraction.unused_columns, extraction.missing_value_columns, warnings,
            [(reason, count, example) for reason, count, example in reasons],
            extraction.empty_rows, summary_rows, extraction.unused_column_count,
            [(period, texts, rows, source) for period, texts, rows, source, _, _ in periods])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

