"""``mapping check``: what the pipeline would do with sample files, before any of them counts.

The files are landed, mapped and harmonised by the real pipeline steps (landing, the mapping,
the dbt models) in a scratch state folder - one landing per file, one dbt run for them all - so
a whole folder of workbooks is checked in about the time of one. The initiative's own state is
not touched.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from murmuration.build import harmonise
from murmuration.intake.arrivals import arrival_for_check
from murmuration.intake.extract import load_extraction
from murmuration.intake.landing import file_sha256, ignored_reason, land_file
from murmuration.paths import ProjectPaths
from murmuration.registry import Registry

PERIODS_SHOWN = 6


@dataclass
class CheckReport:
    """What the pipeline would do with one file."""

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
    file: str = ""
    # Quarantined for a reason the mapping or the file declares (totals, rows reporting nothing,
    # rows outside require_rows): expected, not errors; summary_rows is part of it.
    declared_rows: int = 0

    @property
    def ready(self) -> bool:
        """Every row that carries values is accepted: the rows quarantined are all for reasons
        the mapping declares (totals, rows reporting nothing, rows require_rows leaves out) and
        empty template rows are expected; none of them holds a mapping back."""
        return self.file_problem is None and not self.missing_value_columns and \
            self.rows_quarantined <= self.declared_rows

    @property
    def period_range(self) -> str:
        known = sorted(p for p, *_ in self.periods if p != "(none)")
        if not known:
            return "-"
        return known[0] if len(known) == 1 else f"{known[0]}..{known[-1]} ({len(known)})"

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
                     + (f" ({self.summary_rows} declared totals)" if self.summary_rows else "")
                     + (f" ({self.declared_rows - self.summary_rows} reporting nothing or "
                        "left out by the mapping's rules)"
                        if self.declared_rows > self.summary_rows else ""))
        if self.empty_rows:
            lines.append(f"Empty:    {self.empty_rows} blank or empty template rows (not data)")
        if self.periods:
            shown = self.periods[:PERIODS_SHOWN]
            lines.append("Periods:  " + "; ".join(
                f"{period} <- {texts} ({rows} row{'s' if rows != 1 else ''}"
                + (f", from the {source}" if source not in ("cell", None) else "") + ")"
                for period, texts, rows, source in shown)
                + (f"; and {len(self.periods) - len(shown)} more" if self.periods[len(shown):]
                   else ""))
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
        lines.append(("Ready: every row that carries values is accepted; the others are "
                      "quarantined for reasons the mapping declares."
                      if self.declared_rows else
                      "Ready: every row that carries values is accepted."
                      if self.rows_quarantined or self.empty_rows else
                      "Ready: every row is accepted.") if self.ready else
                     "Not ready: fix the mapping (codes, columns, formats) or the registry "
                     "(aliases, places, categories), then check again.")
        return lines


def table_lines(reports: list[CheckReport]) -> list[str]:
    """Many files at once: one line per file, then the total and what holds each back."""
    width = min(max([len(r.file) for r in reports] + [4]), 48)
    lines = [f"{'File':<{width}}  {'Rows':>6}  {'Accepted':>8}  {'Quarantined':>11}  "
             f"{'Empty':>5}  {'Periods':<22}  Ready  Top reason"]
    for report in reports:
        name = report.file if len(report.file) <= width else "..." + report.file[-width + 3:]
        top = report.file_problem or next(
            (f"{reason} ({count})" for reason, count, _ in report.reasons
             if not reason.startswith("summary row")), "")
        lines.append(f"{name:<{width}}  {report.data_rows:>6}  {report.rows_accepted:>8}  "
                     f"{report.rows_quarantined:>11}  {report.empty_rows:>5}  "
                     f"{report.period_range:<22}  {'yes' if report.ready else 'no ':<5}  "
                     f"{top[:100]}")
    ready = sum(r.ready for r in reports)
    lines.append(f"Total: {len(reports)} files, {sum(r.data_rows for r in reports):,} data rows"
                 f" = {sum(r.rows_accepted for r in reports):,} accepted + "
                 f"{sum(r.rows_quarantined for r in reports):,} quarantined "
                 f"({sum(r.summary_rows for r in reports):,} declared totals), "
                 f"{sum(r.empty_rows for r in reports):,} empty rows; {ready} ready, "
                 f"{len(reports) - ready} not ready.")
    for report in reports:
        if not report.ready:
            lines.append(f"{report.file} (mapping {report.mapping_name or '-'}):")
            if report.file_problem:
                lines.append(f"  {report.file_problem}")
            lines += [f"  {count:>5}  {reason}  [{example}]"
                      for reason, count, example in report.reasons[:3]]
            lines += [f"  Value columns not found: {', '.join(report.missing_value_columns)}"
                      ] if report.missing_value_columns else []
    return lines


def period_warnings(periods: list[tuple]) -> list[str]:
    """Periods a person should look at before trusting a mapping, grouped: after the file
    arrived (an early or misread period) or more than a year before it (a wrong year, a stale
    file, or history loaded today)."""
    early, old, arrived_day = [], [], None
    for period, texts, rows, _, start, arrived in periods:
        if start is None or arrived is None:
            continue
        arrived_day = arrived.date() if hasattr(arrived, "date") else arrived
        if start > arrived_day:
            early.append((period, texts, rows))
        elif (arrived_day - start).days > 366:
            old.append((period, texts, rows))

    def group(found: list) -> str:
        rows = sum(r for _, _, r in found)
        if len(found) == 1:
            period, texts, _ = found[0]
            return f"period {period} ({texts}, {rows} rows)"
        return (f"{len(found)} periods ({found[0][0]}..{found[-1][0]}, {rows} rows)")

    warnings = []
    if early:
        warnings.append(f"{group(early)} {'start' if len(early) > 1 else 'starts'} after the "
                        f"file arrived ({arrived_day}): an early report or a misread period")
    if old:
        warnings.append(f"{group(old)} {'are' if len(old) > 1 else 'is'} more than a year before "
                        f"the file arrived ({arrived_day}): check the year; for history sent "
                        "long ago, record when it was sent (murmuration arrivals set), else its "
                        "reports are scored as arrival unknown")
    return warnings


def check_mapping(paths: ProjectPaths, registry: Registry, sample: Path, folder: str
                  ) -> CheckReport:
    """Run landing, the mapping and the dbt models on ``sample`` in a scratch state folder."""
    return check_mappings(paths, registry, [(sample, folder)])[0]


def check_mappings(paths: ProjectPaths, registry: Registry, samples: list[tuple[Path, str]]
                   ) -> list[CheckReport]:
    """Check many files (each with its inbox folder) in one scratch run: one landing per file,
    one dbt run for all. Reports come back in the order of ``samples``."""
    reports: list[CheckReport | None] = [None] * len(samples)
    scratch = Path(tempfile.mkdtemp(prefix="murmuration-check-"))
    try:
        check_paths = ProjectPaths.for_project(paths.project_dir, scratch)
        check_paths.ensure()
        landed_at = datetime.now().isoformat(timespec="seconds")
        submissions, landed, seen = [], {}, set()
        for index, (sample, folder) in enumerate(samples):
            mapping = registry.mapping_for(folder, sample.name)
            if mapping is None:
                reports[index] = CheckReport(
                    None, f"no mapping in {paths.mappings_dir} covers '{sample.name}' in inbox "
                          f"folder '{folder}' (applies_to.folders / files)", file=sample.name)
                continue
            reason = ignored_reason(sample.name)
            if reason:
                reports[index] = CheckReport(mapping.name, f"ignored: {reason}",
                                             file=sample.name)
                continue
            submission = land_file(check_paths, registry, folder, sample, file_sha256(sample),
                                   landed_at, arrival=arrival_for_check(paths, sample))
            if submission.status != "landed":
                reports[index] = CheckReport(mapping.name,
                                             f"{submission.status}: {submission.message}",
                                             file=sample.name)
                continue
            if submission.submission_id not in seen:  # the same bytes twice: once
                submissions.append(submission)
                seen.add(submission.submission_id)
            landed[index] = submission.submission_id
        if submissions:
            harmonise(check_paths, registry, submissions,
                      ["run", "--quiet", "--select", "+quarantined_values", "+submissions"])
            outcomes = _outcomes(check_paths)
            for index, submission_id in landed.items():
                sample, folder = samples[index]
                extraction = load_extraction(check_paths, submission_id)
                found = outcomes[submission_id]
                reports[index] = CheckReport(
                    extraction.mapping_name, extraction.problem, extraction.sheet,
                    extraction.header_row, extraction.hxl_row, extraction.data_rows,
                    found["accepted"], found["quarantined"], extraction.unused_columns,
                    extraction.missing_value_columns,
                    list(extraction.warnings) + period_warnings(found["periods"]),
                    found["reasons"], extraction.empty_rows, found["summary_rows"],
                    extraction.unused_column_count,
                    [(period, texts, rows, source)
                     for period, texts, rows, source, _, _ in found["periods"]],
                    file=sample.name, declared_rows=found["declared_rows"])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return [report for report in reports if report is not None]


def _outcomes(check_paths: ProjectPaths) -> dict[str, dict]:
    """Per submission: rows accepted and quarantined, declared totals, periods, reasons."""
    con = duckdb.connect(str(check_paths.warehouse), read_only=True)
    try:
        found: dict[str, dict] = {}
        for submission_id, accepted, quarantined in con.execute(
                "select submission_id, rows_accepted, rows_quarantined "
                "from marts.submissions").fetchall():
            found[submission_id] = {"accepted": accepted, "quarantined": quarantined,
                                    "summary_rows": 0, "declared_rows": 0, "periods": [],
                                    "reasons": []}
        for submission_id, count in con.execute(
                "select submission_id, count(*) from intermediate.int_row_outcomes "
                "where any_quarantined and is_summary group by 1").fetchall():
            found[submission_id]["summary_rows"] = count
        for submission_id, count in con.execute("""
                select submission_id, count(*) from (
                    select submission_id, sheet, row_number
                    from intermediate.int_records_validated
                    group by all
                    having bool_or(quarantine_reason is not null)
                        and bool_and(quarantine_reason is null
                                     or extract_problem_kind in ('summary', 'no_values',
                                                                 'excluded'))
                ) group by 1""").fetchall():
            found[submission_id]["declared_rows"] = count
        for submission_id, *period in con.execute("""
                select submission_id, coalesce(period, '(none)'),
                    string_agg(distinct coalesce(period_text, '(empty)'), ' | '),
                    count(distinct coalesce(sheet, '') || '/' || row_number),
                    any_value(period_source), min(period_start), any_value(arrived_at)
                from intermediate.int_records_resolved
                where extract_problem is null
                group by 1, 2 order by 1, 2""").fetchall():
            found[submission_id]["periods"].append(tuple(period))
        for submission_id, reason, count, example in con.execute("""
                select submission_id, quarantine_reason, count(distinct sheet || row_number),
                    arg_min(coalesce(nullif(sheet, '') || ', ', '') || 'row ' || row_number
                            || coalesce(', column ' || column_name, ''), row_number)
                from marts.quarantined_values group by 1, 2 order by 1, 3 desc, 2""").fetchall():
            found[submission_id]["reasons"].append((reason, count, example))
        return found
    finally:
        con.close()
