"""What a run did, in numbers a data engineer reads at a glance (from the warehouse, read-only)."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from murmuration.digest import latest_digest
from murmuration.formatting import format_datetime
from murmuration.intake.landing import inbox_not_files
from murmuration.paths import ProjectPaths
from murmuration.registry.models import WHOLE_AREA
from murmuration.review import emptied_by_rules, held_for_review

# `murmuration run`'s exit codes (docs/operations.md, "The command line"), for monitoring.
EXIT_CLEAN = 0  # published; every file in the inbox was read
EXIT_FAILED = 1  # a step or a blocking check failed; the previous snapshot is kept
EXIT_INVALID = 2  # the initiative's definitions are invalid (or the command was misused)
EXIT_NOT_READ = 3  # published, but files in the inbox could not be read (app.pipeline.files_not_read)
EXIT_LOCKED = 4  # another run of the initiative holds its run lock; nothing was done
EXIT_HELD = 5  # published, but replacements are held for review (not published until accepted)
EXIT_EMPTIED = 6  # nothing published: files accepted before have no accepted value now
PUBLISHED = (EXIT_CLEAN, EXIT_NOT_READ, EXIT_HELD)


def outcome(elapsed: float, success: bool, not_read: int = 0,
            failure: str = "", held: int = 0, emptied: int = 0,
            published: bool = False) -> tuple[int, str]:
    """A run's exit code and the summary's last line, which names it (``published``: the new
    snapshot was published before a later step failed)."""
    if not success and emptied:
        return EXIT_EMPTIED, (
            f"Nothing published after {elapsed:.0f} s: {emptied} file"
            f"{'s' if emptied != 1 else ''} accepted before now "
            f"{'have' if emptied != 1 else 'has'} no accepted value (a rule or mapping change; "
            f"see above). The previous published snapshot was kept (exit code {EXIT_EMPTIED}).")
    if not success and published:
        return EXIT_FAILED, (f"Run failed after {elapsed:.0f} s: {failure}, after the new "
                             f"snapshot was published (the dashboard shows it; what failed "
                             f"after it is said above) (exit code {EXIT_FAILED}).")
    if not success:
        return EXIT_FAILED, (f"Run failed after {elapsed:.0f} s: {failure}. The previous "
                             f"published snapshot (if any) was kept (exit code {EXIT_FAILED}).")
    if held:
        return EXIT_HELD, (f"Done in {elapsed:.0f} s; {held} file{'s' if held != 1 else ''} "
                           f"held for review, not published (murmuration accept FILE "
                           f"publishes one) (exit code {EXIT_HELD}).")
    if not_read:
        return EXIT_NOT_READ, (f"Done in {elapsed:.0f} s; {not_read} "
                               f"file{'s' if not_read != 1 else ''} could not be read "
                               f"(exit code {EXIT_NOT_READ}).")
    return EXIT_CLEAN, f"Done in {elapsed:.0f} s (exit code {EXIT_CLEAN})."


@dataclass
class RunSummary:
    files: dict[str, int] = field(default_factory=dict)  # landing status -> count
    rows_landed: int = 0
    data_rows: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    values_accepted: int = 0
    values_current: int = 0
    values_superseded: int = 0
    values_quarantined: int = 0
    top_reasons: list[tuple[str, int]] = field(default_factory=list)
    problem_files: list[tuple[str, str, str]] = field(default_factory=list)
    not_files: list[tuple[str, str]] = field(default_factory=list)  # links, pipes: never read
    milestones: list[tuple[str, str, str]] = field(default_factory=list)
    # When the run published nothing, the milestones shown are the last published ones (when).
    milestones_from: str | None = None
    run_published: bool = True
    superseded: list[tuple] = field(default_factory=list)
    large_removals: list[tuple] = field(default_factory=list)
    unmapped_files: list[tuple[str, str]] = field(default_factory=list)
    unused_columns: list[tuple[str, int, list[str]]] = field(default_factory=list)
    periods_not_complete: list[tuple[str, str, str]] = field(default_factory=list)
    digest: tuple[str, str] | None = None  # (path, headline) of the "What changed" digest
    mapping_notes: list[tuple[str, str]] = field(default_factory=list)
    values_deduplicated: int = 0
    values_held: int = 0
    held: list = field(default_factory=list)  # murmuration.review.HeldBack
    emptied: list = field(default_factory=list)

    def lines(self) -> list[str]:
        files = ", ".join(f"{n} {status}" for status, n in sorted(self.files.items()))
        lines = [
            f"Files:       {sum(self.files.values())} ({files or 'none'})",
            f"Rows landed: {self.rows_landed} (all cells, titles and headers included)",
            f"Data rows:   {self.data_rows} = {self.rows_accepted} accepted + "
            f"{self.rows_quarantined} quarantined",
            f"Values:      {self.values_accepted + self.values_quarantined} = "
            f"{self.values_accepted} accepted ({self.values_current} current, "
            f"{self.values_superseded} superseded"
            + (f", {self.values_deduplicated} deduplicated" if self.values_deduplicated else "")
            + (f", {self.values_held} held for review" if self.values_held else "")
            + f") + {self.values_quarantined} quarantined",
        ]
        if self.emptied:
            lines.append("Not published: files accepted before have no accepted value now "
                         "(a rule or mapping change):")
            lines += [f"  {e.location}: {e.reason}" for e in self.emptied]
        if self.held:
            lines.append("Held for review, not published (murmuration accept FILE, or the "
                         "Pipeline page, publishes one):")
            lines += [f"  {e.location}: {e.reason}" for e in self.held]
        for kind, count, slices, added, changed, removed, withdrawn, unchanged in self.superseded:
            lines.append(f"Superseded:  {count} {kind}{'s' if count != 1 else ''} for a "
                         f"partner and period, in {slices} slice{'s' if slices != 1 else ''} "
                         f"({added} values added, {changed} changed, {removed} removed, "
                         f"{withdrawn} withdrawn, {unchanged} unchanged)")
        if self.large_removals:
            lines.append("Check these replacements (a later file removed most of the values "
                         "it replaced):")
            lines += [f"  {partner} {period}: {current} replaced {superseded} in {indicators}, "
                      f"removing {removed} of {before} values"
                      for partner, period, superseded, current, indicators, removed, before
                      in self.large_removals]
        if self.top_reasons:
            lines.append("Top quarantine reasons:")
            lines += [f"  {count:>5}  {reason}" for reason, count in self.top_reasons]
        if self.problem_files:
            lines.append("Files not read:")
            lines += not_read_lines(self.problem_files)
        if self.not_files:
            lines.append("Not files (ignored, never read or followed):")
            lines += [f"  {location}: {reason}" for location, reason in self.not_files]
        if self.unmapped_files:
            lines.append("Files read but not mapped (every row quarantined):")
            lines += [f"  {location}: {message}" for location, message in self.unmapped_files]
        if self.mapping_notes:
            lines.append("Files several mappings cover (one read them):")
            lines += [f"  {location}: {note}" for location, note in self.mapping_notes]
        if self.unused_columns:
            lines.append("Columns not in the mapping (ignored; list them under ignore_columns "
                         "if they belong to the template):")
            lines += [f"  {location}: {count:,} ({', '.join(repr(c) for c in names[:5])}"
                      f"{', ...' if count > 5 else ''})"
                      for location, count, names in self.unused_columns]
        if self.periods_not_complete:
            lines.append("Latest periods left out of milestone status (not complete):")
            lines += [f"  {indicator}: {period} ({state})"
                      for indicator, period, state in self.periods_not_complete]
        if not self.run_published:
            lines.append("Milestones: this run published nothing; the dashboard still shows "
                         + (f"the snapshot published {self.milestones_from}:"
                            if self.milestones_from else "no published snapshot yet."))
        elif self.milestones:
            lines.append("Milestones:")
        if self.milestones:
            lines += [f"  {indicator} ({place}): {status.replace('_', ' ')}"
                      for indicator, place, status in self.milestones]
        if self.digest:
            lines.append(f"What changed: {self.digest[1]} ({self.digest[0]})")
        return lines


def not_read_lines(files: list[tuple[str, str, str]]) -> list[str]:
    """A file not read per line: '  folder/name: status - reason'."""
    return [f"  {location}: {status} - {message}" for location, status, message in files]


def summarise(paths: ProjectPaths, run_published: bool = True,
              not_read: list[tuple[str, str, str]] | None = None) -> RunSummary:
    """Counts from the warehouse's marts; empty when the pipeline has not built them yet. The
    milestones are the published ones (what the dashboard shows): after a run that published
    nothing, the previous snapshot's, never statuses that were only built. ``not_read``: the
    files not read still current (app.pipeline.files_not_read), when the caller has them;
    else every file ever received and not read, from the warehouse."""
    summary = RunSummary(run_published=run_published, not_files=inbox_not_files(paths),
                         problem_files=list(not_read or []))
    latest = latest_digest(paths.state_dir)
    summary.digest = (str(latest[0]), latest[1]) if latest else None
    _published_milestones(paths, summary)
    if not paths.warehouse.exists():
        return summary
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        tables = {row[0] for row in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables").fetchall()}
        if "marts.submissions" in tables:
            summary.files = dict(con.execute(
                "select landing_status, count(*) from marts.submissions group by 1").fetchall())
            (summary.rows_landed, summary.data_rows, summary.rows_accepted,
             summary.rows_quarantined, summary.values_accepted, summary.values_current,
             summary.values_superseded, summary.values_quarantined,
             summary.values_deduplicated, summary.values_held) = con.execute(
                "select coalesce(sum(rows_read), 0), coalesce(sum(data_rows), 0), "
                "coalesce(sum(rows_accepted), 0), coalesce(sum(rows_quarantined), 0), "
                "coalesce(sum(values_accepted), 0), coalesce(sum(values_current), 0), "
                "coalesce(sum(values_superseded), 0), coalesce(sum(values_quarantined), 0), "
                "coalesce(sum(values_deduplicated), 0), coalesce(sum(values_held), 0) "
                "from marts.submissions").fetchall()[0]
            summary.held = held_for_review(con)
            if not_read is None:
                summary.problem_files = con.execute(
                    "select folder || '/' || file_name, landing_status, message from "
                    "marts.submissions where landing_status <> 'landed' order by 1").fetchall()
            summary.unmapped_files = con.execute(
                "select folder || '/' || file_name, message from marts.submissions "
                "where landing_status = 'landed' and message is not null order by 1"
            ).fetchall()
            if _has_column(con, "marts", "submissions", "mapping_note"):
                summary.mapping_notes = con.execute(
                    "select folder || '/' || file_name, mapping_note from marts.submissions "
                    "where mapping_note is not null order by 1").fetchall()
            summary.unused_columns = con.execute(
                "select folder || '/' || file_name, unused_column_count, unused_columns "
                "from marts.submissions where unused_column_count > 0 "
                "and landing_status = 'landed' and message is null order by 1").fetchall()
        if "marts.superseded_submissions" in tables:
            summary.superseded = con.execute(
                "select kind, count(distinct superseded_submission_id || partner_code || period), "
                "sum(slices_superseded), sum(values_added), sum(values_changed), "
                "sum(values_removed), sum(values_withdrawn), sum(values_unchanged) "
                "from marts.superseded_submissions group by kind order by kind").fetchall()
            summary.large_removals = con.execute(
                "select partner_code || case when reporting_unit <> '' then ' (' || "
                "reporting_unit || ')' else '' end, period, superseded_file, current_file, "
                "indicators, values_removed, values_before from marts.superseded_submissions "
                "where values_removed * 2 > values_before order by 1, 2").fetchall()
        if "marts.indicator_period_totals" in tables and "marts.indicators" in tables:
            summary.periods_not_complete = con.execute(
                "select i.short_name, t.period, replace(t.completeness_state, '_', ' ') || ': ' "
                "|| t.partners_reporting || ' of ' || t.partners_expected || ' partners' "
                "from marts.indicator_period_totals t join marts.indicators i "
                "using (indicator_code) where t.place_code = $area and t.period_type = "
                "(select period_type from marts.initiative) and t.completeness_state <> "
                "'complete' and t.period_start > (select max(period_start) from "
                "marts.indicator_period_totals x where x.indicator_code = t.indicator_code "
                "and x.place_code = $area and x.completeness_state = 'complete' "
                "and x.period_type = t.period_type) order by i.display_order, t.period",
                {"area": WHOLE_AREA}).fetchall()
        if "marts.quarantined_values" in tables:
            summary.top_reasons = con.execute(
                "select quarantine_reason, count(*) from marts.quarantined_values group by 1 "
                "order by 2 desc, 1 limit 8").fetchall()
    finally:
        con.close()
    summary.emptied = emptied_by_rules(paths) if not run_published else []
    return summary


def _has_column(con, schema: str, table: str, column: str) -> bool:
    return bool(con.execute(
        "select count(*) from information_schema.columns where table_schema = ? and "
        "table_name = ? and column_name = ?", [schema, table, column]).fetchone()[0])


def _published_milestones(paths: ProjectPaths, summary: RunSummary) -> None:
    """The milestone statuses of the published snapshot, and when it was published."""
    if not paths.serving.exists():
        return
    con = duckdb.connect(str(paths.serving), read_only=True)
    try:
        summary.milestones = con.execute(
            "select i.short_name, case m.place_code when $area then 'whole area' "
            "else coalesce(p.place_name, m.place_code) end, m.status "
            "from marts.milestone_status m join marts.indicators i using (indicator_code) "
            "left join marts.places p using (place_code) "
            "order by i.display_order, m.place_code", {"area": WHOLE_AREA}).fetchall()
        published = con.execute("select max(published_at) from main.published").fetchone()
        summary.milestones_from = format_datetime(published[0]) if published[0] else None
    except duckdb.Error:  # a snapshot from an older version: say nothing rather than fail
        summary.milestones = []
    finally:
        con.close()
