"""The changes written for people: a section each (the digest and the dashboard's page show the
same), the headline and the digest's HTML."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from jinja2 import Environment, PackageLoader, select_autoescape

from murmuration.digest.changes import Changes
from murmuration.formatting import (
    format_change,
    format_count,
    format_date,
    format_datetime,
    format_period,
    format_value,
)

TEMPLATES = Environment(loader=PackageLoader("murmuration", "templates"),
                        autoescape=select_autoescape(["html"]), trim_blocks=True,
                        lstrip_blocks=True)

SINGULAR = {"new submissions": "new submission", "totals revised": "total revised",
            "first figures": "first figure", "statuses changed": "status changed",
            "milestones reached or missed": "milestone reached or missed",
            "flags raised": "flag raised", "flags resolved": "flag resolved",
            "reports newly late or missing": "report newly late or missing",
            "missing reports now received": "missing report now received"}
STATUS_WORDS = {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track",
                "no_data": "No data", None: "-"}
STATE_WORDS = {"complete": "complete", "incomplete": "incomplete",
               "not_yet_due": "not yet due", None: "-"}


def _rule(rule: str, severity: str | None) -> str:
    words = rule.replace("_", " ").capitalize()
    return f"{words} ({severity})" if severity and severity != "flag" else words


def _report_words(state: str, days_late) -> str:
    if state == "missing":
        return "not received"
    if state == "late":
        return f"received {format_count(days_late)} days late" if days_late else "received late"
    return {"on time": "received on time", "not due": "not yet due", "none": "-"}[state]


@dataclass
class Section:
    key: str
    title: str
    columns: dict[str, str]  # field -> heading
    rows: list[dict]  # values written for people
    empty: str
    note: str = ""
    numeric: tuple[str, ...] = ()


NONE = "None."


def sections(changes: Changes) -> list[Section]:
    """The changes written for people, a section each (the digest and the page show these)."""
    return [_submissions_section(changes), *_figure_sections(changes),
            *_flag_sections(changes), *_report_sections(changes)]


def _period(changes: Changes, row, name="period", start="period_start") -> str:
    return format_period(row.get(name), row.get(start), changes.period_type)


def _value(row, name) -> str:
    return format_value(row.get(name), row["decimals"], row["unit"])


def _submissions_section(changes: Changes) -> Section:
    submission_columns = {"partner": "Partner", "periods": "Periods", "arrived": "Arrived",
                          "accepted": "Values accepted", "quarantined": "Rows quarantined",
                          "note": "Note"}
    if changes.file_names:
        submission_columns = {"file": "File", **submission_columns}
    rows = []
    for s in changes.new_submissions:
        periods = " to ".join(dict.fromkeys(p for p in (s["first_period"], s["last_period"]) if p))
        note = []
        if s["replaces"]:
            note.append(f"replaces {s['replaces']} earlier file{'s' if s['replaces'] > 1 else ''}")
        if s["landing_status"] != "landed":
            note.append(f"{s['landing_status']}: {s['message'] or ''}".strip(": "))
        elif changes.file_names and s.get("message"):
            note.append(s["message"])
        rows.append({"file": s.get("file_name") or "", "partner": s["partner_name"],
                     "periods": periods or "-", "arrived": format_datetime(s["arrived_at"]),
                     "accepted": format_count(s["values_accepted"]),
                     "quarantined": format_count(s["rows_quarantined"]), "note": "; ".join(note)})
    return Section(
        "submissions", "New submissions", submission_columns, rows, NONE,
        note=(f"{changes.files_not_read} more new file{'s' if changes.files_not_read > 1 else ''}"
              " could not be read; the backbone's data team has the details."
              if changes.files_not_read else ""), numeric=("accepted", "quarantined"))


def _figure_sections(changes: Changes) -> list[Section]:
    """Revised totals, first figures, statuses that changed, milestones reached or missed."""
    value, none, found = _value, NONE, []
    found.append(Section(
        "revised", "Revised totals",
        {"indicator": "Indicator", "place": "Place", "period": "Period", "from": "Was",
         "to": "Now", "change": "Change", "by": "Revised by", "reporting": "Partners reporting"},
        [{"indicator": r["short_name"], "place": r["place_name"], "period": _period(changes, r),
          "from": value(r, "value_from"), "to": value(r, "value_to"),
          "change": format_change(r["change"], r["decimals"], r["unit"]),
          "by": ", ".join(r["revised_by"]) or "-",
          "reporting": f"{format_count(r['partners_reporting'])} of "
                       f"{format_count(r['partners_expected'])}"
                       + (f" ({STATE_WORDS.get(r['state_to'], r['state_to'])})"
                          if r["state_to"] != "complete" else "")}
         for r in changes.revised_totals], none,
        note="A published total for an indicator, place and period whose value changed.",
        numeric=("from", "to", "change")))

    found.append(Section(
        "first", "First figures",
        {"indicator": "Indicator", "period": "Period", "value": "Whole area",
         "reporting": "Partners reporting"},
        [{"indicator": r["short_name"], "period": _period(changes, r), "value": value(r, "value"),
          "reporting": f"{format_count(r['partners_reporting'])} of "
                       f"{format_count(r['partners_expected'])} "
                       f"({STATE_WORDS.get(r['state'], r['state'])})"}
         for r in changes.first_figures], none, numeric=("value",)))

    found.append(Section(
        "statuses", "Statuses that changed",
        {"indicator": "Indicator", "place": "Place", "from": "Was", "to": "Now", "why": "Why"},
        [{"indicator": r["short_name"], "place": r["place_name"],
          "from": STATUS_WORDS.get(r["status_from"], r["status_from"]),
          "to": STATUS_WORDS.get(r["status_to"], r["status_to"]), "why": r["reason"] or ""}
         for r in changes.status_changes], none))

    found.append(Section(
        "milestones", "Milestones reached or missed",
        {"indicator": "Indicator", "place": "Place", "point": "Milestone", "target": "Target",
         "actual": "Actual", "result": "Result"},
        [{"indicator": r["short_name"], "place": r["place_name"],
          "point": f"{r['kind'].capitalize()} {_period(changes, r)}",
          "target": value(r, "target"), "actual": value(r, "actual"),
          "result": ({True: "Met", False: "Missed", None: "Reported (no better direction)"}
                     [r["met"]]) + (f" (was {r['before']})" if r["before"] != "not complete"
                                    else "")}
         for r in changes.milestones], none,
        note="A milestone or target whose period is now complete, judged by the indicator's "
             "direction (higher or lower is better).", numeric=("target", "actual")))

    return found


def _flag_sections(changes: Changes) -> list[Section]:
    value, none, found = _value, NONE, []
    for key, title, rows in (("raised", "Flags raised", changes.flags_raised),
                             ("resolved", "Flags resolved", changes.flags_resolved)):
        if changes.flag_rows:
            found.append(Section(
                f"flags-{key}", title,
                {"partner": "Partner", "indicator": "Indicator", "period": "Period",
                 "place": "Place", "breakdown": "Breakdown", "value": "Value",
                 "check": "Check"},
                [{"partner": r["partner_name"], "indicator": r["short_name"],
                  "period": r["period"] or "-", "place": r["place_name"] or "-",
                  "breakdown": r["breakdown"] or "-", "value": value(r, "value"),
                  "check": _rule(r["rule"], r["severity"])} for r in rows], none,
                numeric=("value",)))
        else:
            found.append(Section(
                f"flags-{key}", title,
                {"indicator": "Indicator", "check": "Check", "flags": "Values flagged"},
                [{"indicator": r["short_name"], "check": _rule(r["rule"], r["severity"]),
                  "flags": format_count(r["flags"])} for r in rows], none,
                numeric=("flags",)))

    return found


def _report_sections(changes: Changes) -> list[Section]:
    none, found = NONE, []
    found.append(Section(
        "late", "Reports newly late or missing",
        {"partner": "Partner", "period": "Period", "due": "Due", "now": "Now", "was": "Was"},
        [{"partner": r["partner_name"], "period": _period(changes, r), "due": format_date(r["due_date"]),
          "now": _report_words(r["state"], r["days_late"]),
          "was": _report_words(r["before"], None) if r["before"] != "none" else "-"}
         for r in changes.reports_late], none))
    found.append(Section(
        "received", "Missing reports now received",
        {"partner": "Partner", "period": "Period", "due": "Due", "arrived": "Arrived"},
        [{"partner": r["partner_name"], "period": _period(changes, r), "due": format_date(r["due_date"]),
          "arrived": format_datetime(r["first_arrival"])} for r in changes.reports_received],
        none))
    return found


def headline(changes: Changes) -> str:
    """One line: '2 new submissions, 3 totals revised, ...' (or that nothing changed)."""
    if changes.since is None:
        return ("The first snapshot kept: nothing to compare with yet. From the next run on, "
                "this lists what changed.")
    counts = [f"{n:,} {SINGULAR.get(name, name) if n == 1 else name}"
              for name, n in changes.counts().items() if n]
    if not counts:
        return f"Nothing new since {format_datetime(changes.since)}."
    return ", ".join(counts) + "."


def render_digest(changes: Changes) -> str:
    return TEMPLATES.get_template("digest.html").render(
        changes=changes, sections=sections(changes), headline=headline(changes),
        published=format_datetime(changes.published_at),
        since=format_datetime(changes.since) if changes.since else None,
        generated=format_datetime(datetime.now(UTC)))
