"""Generate the bundled sample inbox: nine fictional partners, 24 months, three export shapes.

Deterministic: a fixed seed, fixed file timestamps and byte-identical workbooks, so the same
command always writes the same files (and the pipeline sees the same content hashes).

The data carries the messiness real partner files have (see DOMAIN.md), each planted on purpose
and listed in ``PLANTED`` so tests can check the pipeline catches it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import openpyxl

from murmuration.intake.arrivals import record as record_arrivals
from murmuration.paths import ProjectPaths

SEED = 20241101
FIRST_PERIOD = (2024, 11)
PERIOD_COUNT = 24
PLACES = {"north": "Northgate", "south": "Southbank", "east": "Eastfield", "west": "Westmoor"}
PLACE_WEIGHT = {"north": 0.30, "south": 0.25, "east": 0.22, "west": 0.23}

# What was planted, for tests and for the tour of the sample in docs/sample.md.
PLANTED = {
    "late": ("little_steps", "2025-03"),
    "missing": ("parents_together", "2025-08"),
    "resubmitted": ("brightstart", "2025-05"),
    "unresolved_organisation": ("brightstart", "2025-07", "Brite Start"),
    "not_a_number": ("brightstart", "2025-02", "TBC"),
    "below_range": ("brightstart", "2025-02", "-3"),
    "unknown_place": ("library_service", "2025-09", "Nortgate"),
    "unknown_category": ("little_steps", "2026-01", "5-6"),
    "unknown_data_element": ("riverside_health", "2025-09", "Imm2yPart01"),
    "above_range": ("family_hub", "2025-10", "950"),
    "outlier": ("library_service", "2025-06", "23100"),
    "lock_file": ("family_hub", "~$family_hub_return_2025-06.xlsx"),
    "inconsistent_month": ("family_hub", "2025-12", 0.4),  # hubs closed half of December
    "more_immunised_than_eligible": ("riverside_health", "2026-03", "north", "f"),
    "zero_reported": ("family_hub", "2026-02", "east"),  # zero referrals: a value, not a gap
    # Text that would be markup in a page or a formula in a spreadsheet: shown escaped,
    # exported neutralised.
    "markup_place": ("little_steps", "2026-02", "<b onmouseover=alert(1)>Northgate</b>"),
    "formula_value": ("little_steps", "2026-02", '=HYPERLINK("http://example.invalid","1")'),
    # What a submission replaces (docs/judging.md, "How values are judged"):
    # a month sent before it is due: one of three partners' children enrolled for 2026-11
    "early_month": ("brightstart", "2026-11", "2026-11-20T10:30:00+00:00"),
    # November's file repeats October's story-time minutes, corrected: only that slice is replaced
    "corrected_rows_in_next_file": ("little_steps", "2025-11", "2025-10"),
    # a hub's return keeps an empty template row dated the month before (zeros only)
    "template_row_of_another_month": ("family_hub", "2026-09", "2026-08"),
    # from 2026-09 each hub office sends its own return, in its own inbox sub-folder
    "reporting_units": ("family_hub", "2026-09", ("north_east_hub", "south_west_hub")),
    # the housing trust joined in 2025-02: it is expected from then, not from 2024-11
    "joined_late": ("housing_trust", "2025-02"),
    # Files that cannot be read (kept, listed with a reason the partner can act on): the missing
    # month's workbook arrived cut short, and an empty export was sent next to a good one.
    "damaged_workbook": ("parents_together", "parents_together_2025-08.xlsx",
                         "2025-09-12T09:40:00+00:00"),
    "empty_file": ("library_service", "library_service_2026-01_final.csv",
                   "2026-02-06T16:05:00+00:00"),
}
HUBS = {"north_east_hub": ("north", "east"), "south_west_hub": ("south", "west")}
# The childcare information service's price survey: a median weekly fee per ward from the
# providers it asked, and the city's own median beside them (a row the pipeline recognises as
# the file's total of the wards, not counted again).
FEE_ALL_WARDS = "Riverside (all wards)"
# The community centres' activity sheets: one row per activity and centre; activities at one
# centre reach the same families (counted once per centre: the most of its activities).
CENTRES = {"north": ("Northgate Centre", "Gate Street Hall"), "south": ("Riverside Quay Hub",),
           "east": ("Eastfield Community House", "Mill Lane Centre"),
           "west": ("Westmoor Family Centre",)}
ACTIVITIES = ("Stay and play", "Baby massage", "Parent cafe")
CENTRES_FROM = "2025-06"


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def last_day(self) -> date:
        following = date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return following - timedelta(days=1)

    def label(self, fmt: str) -> str:
        return date(self.year, self.month, 1).strftime(fmt)


def periods(count: int = PERIOD_COUNT) -> list[Month]:
    year, month = FIRST_PERIOD
    result = []
    for _ in range(count):
        result.append(Month(year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


class Series:
    """A smooth trend with noise: ``start`` growing by ``growth`` a month, seeded per series."""

    def __init__(self, rng: random.Random, start: float, growth: float, noise: float):
        self.rng, self.start, self.growth, self.noise = rng, start, growth, noise

    def at(self, index: int) -> float:
        return max(0.0, self.start + self.growth * index + self.rng.gauss(0, self.noise))


def _arrival(rng: random.Random, month: Month, due_days: int, late_by: int = 0) -> datetime:
    """Most files come in a few days before the partner's due date."""
    days = late_by or rng.randint(max(1, due_days - 10), max(1, due_days - 1))
    moment = datetime.combine(month.last_day, datetime.min.time(), tzinfo=UTC)
    return moment + timedelta(days=days, hours=rng.randint(8, 17), minutes=rng.randint(0, 59))


def _write(path: Path, content: bytes, arrived: datetime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    stamp = arrived.timestamp()
    os.utime(path, (stamp, stamp))


def _csv_bytes(rows: list[list], delimiter: str = ",", bom: bool = False) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8")


def _xlsx_bytes(workbook: openpyxl.Workbook) -> bytes:
    """Save a workbook with fixed timestamps so the bytes do not depend on when it was written."""
    fixed = datetime(2024, 1, 1)
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    raw = io.BytesIO()
    workbook.save(raw)
    stable = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(stable, "w", zipfile.ZIP_DEFLATED) as out:
        for item in sorted(source.infolist(), key=lambda i: i.filename):
            info = zipfile.ZipInfo(item.filename, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            content = source.read(item.filename)
            if item.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2024-01-01T00:00:00Z",
                                 content)
            out.writestr(info, content)
    return stable.getvalue()


def _family_hub_workbook(month: Month, rows: list[list]) -> bytes:
    """The hub network's return: a notes sheet, then title rows, the figures and a total."""
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "Read me"
    notes["A1"] = "Fill in the Return sheet by the 15th of the following month."
    sheet = workbook.create_sheet("Return")
    sheet["A1"] = "Family Hub Network - monthly return"
    sheet["A2"] = f"Reporting month: {month.label('%B %Y')}"
    sheet.append([])
    sheet.append(["Month", "Neighbourhood", "Home visits completed",
                  "Families referred to support"])
    for row in rows:
        sheet.append(row)
    last = 4 + len(rows)
    sheet.append([None, "Total", f"=SUM(C5:C{last})", f"=SUM(D5:D{last})"])
    return _xlsx_bytes(workbook)


class SampleInbox:
    """Writes every partner's files for every month into ``inbox/<partner>/``."""

    def __init__(self, inbox: Path, seed: int = SEED, months: int = PERIOD_COUNT):
        self.inbox = inbox
        self.rng = random.Random(seed)
        self.months = periods(months)
        self.files: list[Path] = []
        self.arrivals: list[datetime] = []

    def series(self, start: float, growth: float, noise: float) -> Series:
        return Series(random.Random(self.rng.random()), start, growth, noise)

    def write(self, partner: str, name: str, content: bytes, arrived: datetime) -> None:
        path = self.inbox / partner / name
        _write(path, content, arrived)
        self.files.append(path)
        self.arrivals.append(arrived)

    def generate(self) -> list[Path]:
        self.brightstart()
        self.little_steps()
        self.riverside_health()
        self.family_hub()
        self.parents_together()
        self.library_service()
        self.housing_trust()
        self.childcare_info()
        self.community_centres()
        return self.files

    # --- long CSV with organisation aliases, invalid values and a resubmission -------------
    def brightstart(self) -> None:
        cells = {(p, s, a): self.series(650 * PLACE_WEIGHT[p] * 0.25 * share, 0.45 * share, 1.2)
                 for p in PLACES for s in ("F", "M") for a, share in (("0-2", 0.8), ("3-4", 1.2))}
        names = ["BrightStart Nurseries", "Bright Start", "BRIGHTSTART NURSERIES LTD"]
        header = ["Organisation", "Month", "Neighbourhood", "Sex", "Age group", "Measure", "Count"]
        for index, month in enumerate(self.months):
            rows = [header]
            for (place, sex, age), series in cells.items():
                rows.append([names[index % 3], month.key, PLACES[place], sex, age,
                             "Children enrolled", str(round(series.at(index)))])
            arrived = _arrival(self.rng, month, 15)
            if month.key == PLANTED["not_a_number"][1]:
                rows[3][6] = PLANTED["not_a_number"][2]
                rows[8][6] = PLANTED["below_range"][2]
            if month.key == PLANTED["unresolved_organisation"][1]:
                rows[5][0] = PLANTED["unresolved_organisation"][2]
            if month.key == PLANTED["resubmitted"][1]:
                first = [list(r) for r in rows]
                for row in first[1:]:
                    if row[2] == PLACES["east"]:
                        row[6] = str(int(row[6]) * 2)  # a copy-paste error, corrected below
                self.write("brightstart", f"brightstart_enrolment_{month.key}.csv",
                           _csv_bytes(first), arrived - timedelta(days=6))
                rows = rows[:-1]  # the correction also withdraws one row
                self.write("brightstart", f"brightstart_enrolment_{month.key}_corrected.csv",
                           _csv_bytes(rows), arrived + timedelta(days=3))
                continue
            self.write("brightstart", f"brightstart_enrolment_{month.key}.csv",
                       _csv_bytes(rows), arrived)
        # A month sent before it is due (fixed arrival: no draw from the shared generator).
        partner, key, arrival = PLANTED["early_month"]
        index = len(self.months)
        rows = [header] + [[names[index % 3], key, PLACES[place], sex, age, "Children enrolled",
                            str(round(series.at(index)))]
                           for (place, sex, age), series in cells.items()]
        self.write(partner, f"brightstart_enrolment_{key}.csv", _csv_bytes(rows),
                   datetime.fromisoformat(arrival))

    # --- semicolon CSV with a byte-order mark, month names, minutes, a late file ----------
    def little_steps(self) -> None:
        place_names = {"north": "Northgate", "south": "South Bank", "east": "Eastfield",
                       "west": "West Moor"}
        enrolled = {(p, s, a): self.series(360 * PLACE_WEIGHT[p] * 0.25 * share, 0.25 * share, 1.0)
                    for p in PLACES for s in ("Girls", "Boys")
                    for a, share in (("0-2 years", 0.9), ("3-4 years", 1.1))}
        minutes = {p: self.series(4200 * PLACE_WEIGHT[p], 15, 90) for p in PLACES}
        header = ["Reporting month", "Area", "Indicator", "Sex", "Age", "Value"]
        sent: dict[str, list[list[str]]] = {}
        for index, month in enumerate(self.months):
            label = month.label("%b %Y")
            rows = [header]
            for (place, sex, age), series in enrolled.items():
                rows.append([label, place_names[place], "Enrolled children", sex, age,
                             str(round(series.at(index)))])
            for place, series in minutes.items():
                rows.append([label, place_names[place], "Story time (minutes)", "", "",
                             str(round(series.at(index)))])
            if month.key == PLANTED["unknown_category"][1]:
                rows[2][4] = PLANTED["unknown_category"][2]
            if month.key == PLANTED["markup_place"][1]:
                rows[3][1] = PLANTED["markup_place"][2]
                rows[4][5] = PLANTED["formula_value"][2]
            sent[month.key] = rows
            _, corrected_in, earlier = PLANTED["corrected_rows_in_next_file"]
            if month.key == corrected_in:  # last month's story time again, 5 % higher
                rows += [[row[0], row[1], row[2], "", "", str(round(int(row[5]) * 1.05))]
                         for row in sent[earlier][1:] if row[2] == "Story time (minutes)"]
            late_by = 57 if month.key == PLANTED["late"][1] else 0
            self.write("little_steps", f"little_steps_{month.key}.csv",
                       _csv_bytes(rows, delimiter=";", bom=True),
                       _arrival(self.rng, month, 15, late_by))

    # --- DHIS2 dataValueSets JSON with ids resolved through the mapping -------------------
    def riverside_health(self) -> None:
        org_units = {"north": "OuNgate0001", "south": "OuSbank0001", "east": "OuEfield001",
                     "west": "OuWmoor0001"}
        combos = {"f": "CocFemale01", "m": "CocMale0001"}
        turning_two = {(p, s): self.series(230 * PLACE_WEIGHT[p] * 0.5, 0.05, 2.0)
                       for p in PLACES for s in combos}
        for index, month in enumerate(self.months):
            period = f"{month.year:04d}{month.month:02d}"
            arrived = _arrival(self.rng, month, 20)
            values = []
            for (place, sex), series in turning_two.items():
                cohort = round(series.at(index))
                coverage = min(0.99, 0.855 + 0.0024 * index + self.rng.gauss(0, 0.012))
                immunised = round(cohort * coverage)
                if (month.key, place, sex) == PLANTED["more_immunised_than_eligible"][1:]:
                    immunised = cohort + 4
                for element, value in (("Pop2yTurn01", cohort), ("Imm2yFull01", immunised)):
                    values.append({
                        "dataElement": element, "period": period, "orgUnit": org_units[place],
                        "categoryOptionCombo": combos[sex], "attributeOptionCombo": "HllvX50cXC0",
                        "value": str(value), "storedBy": "rchs_import",
                        "created": arrived.strftime("%Y-%m-%dT%H:%M:%S.000"),
                        "lastUpdated": arrived.strftime("%Y-%m-%dT%H:%M:%S.000"),
                        "followup": False,
                    })
            if month.key == PLANTED["unknown_data_element"][1]:
                values[1]["dataElement"] = PLANTED["unknown_data_element"][2]
            document = {"dataSet": "RchsMonth01", "completeDate": arrived.date().isoformat(),
                        "period": period, "dataValues": values}
            self.write("riverside_health", f"riverside_health_{period}.json",
                       json.dumps(document, indent=2).encode("utf-8"), arrived)

    # --- wide workbook with title rows and a formula total row; an Excel lock file --------
    def family_hub(self) -> None:
        visits = {p: self.series(450 * PLACE_WEIGHT[p], 2.2, 6) for p in PLACES}
        referrals = {p: self.series(60 * PLACE_WEIGHT[p], 0.1, 2) for p in PLACES}
        _, units_from, _ = PLANTED["reporting_units"]
        for index, month in enumerate(self.months):
            figures = []
            for place, name in PLACES.items():
                home_visits = round(visits[place].at(index))
                if month.key == PLANTED["above_range"][1] and place == "south":
                    home_visits = int(PLANTED["above_range"][2])
                if month.key == PLANTED["inconsistent_month"][1]:
                    home_visits = round(home_visits * PLANTED["inconsistent_month"][2])
                referred = round(referrals[place].at(index))
                if (month.key, place) == PLANTED["zero_reported"][1:]:
                    referred = 0
                figures.append((place, [datetime.combine(month.last_day, datetime.min.time()),
                                        name, home_visits, referred]))
            arrived = _arrival(self.rng, month, 15)
            name = f"family_hub_return_{month.key}.xlsx"
            if month.key < units_from:
                self.write("family_hub", name,
                           _family_hub_workbook(month, [row for _, row in figures]), arrived)
            else:  # each hub office sends its own return
                for offset, (hub, places) in enumerate(HUBS.items()):
                    rows = [row for place, row in figures if place in places]
                    if (month.key, hub) == (PLANTED["template_row_of_another_month"][1],
                                            "north_east_hub"):
                        earlier = Month(month.year, month.month - 1)
                        rows.append([datetime.combine(earlier.last_day, datetime.min.time()),
                                     None, 0, 0])
                    self.write(f"family_hub/{hub}", name, _family_hub_workbook(month, rows),
                               arrived + timedelta(hours=offset))
            if name == PLANTED["lock_file"][1].removeprefix("~$"):
                self.write("family_hub", PLANTED["lock_file"][1],
                           b"\x0bFamily Hub " + b"\x00" * 150, arrived)

    # --- wide workbook: Girls/Boys x age band columns; blank template rows; a missing month -
    def parents_together(self) -> None:
        columns = [("f", "0-2"), ("m", "0-2"), ("f", "3-4"), ("m", "3-4")]
        enrolled = {(p, c): self.series(480 * PLACE_WEIGHT[p] * 0.25, 0.45, 1.0)
                    for p in PLACES for c in columns}
        visits = {p: self.series(250 * PLACE_WEIGHT[p], 1.0, 4) for p in PLACES}
        for index, month in enumerate(self.months):
            if month.key == PLANTED["missing"][1]:
                self._damaged_workbook()  # no series drawn: the other months stay as they were
                continue
            workbook = openpyxl.Workbook()
            sheet = workbook.active
            sheet.title = "Monthly figures"
            sheet.append(["Parents Together"])
            sheet.append(["Children enrolled in our funded places and home visits, by area"])
            sheet.append(["Month", "Area", "Girls 0-2", "Boys 0-2", "Girls 3-4", "Boys 3-4",
                          "Home visits"])
            for place, name in PLACES.items():
                sheet.append([month.key, name,
                              *(round(enrolled[(place, c)].at(index)) for c in columns),
                              round(visits[place].at(index))])
            sheet.append([month.key, None, None, None, None, None, None])  # unused template row
            sheet.append([])
            self.write("parents_together", f"parents_together_{month.key}.xlsx",
                       _xlsx_bytes(workbook), _arrival(self.rng, month, 15))

    def _damaged_workbook(self) -> None:
        """The month's template, cut short in the middle as an interrupted upload leaves it."""
        partner, name, arrival = PLANTED["damaged_workbook"]
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.title = "Monthly figures"
        sheet.append(["Parents Together"])
        sheet.append(["Month", "Area", "Girls 0-2", "Boys 0-2", "Girls 3-4", "Boys 3-4",
                      "Home visits"])
        content = _xlsx_bytes(workbook)
        self.write(partner, name, content[:len(content) // 2], datetime.fromisoformat(arrival))

    # --- long CSV, one fixed indicator in minutes, capitals, a typo, an outlier ------------
    def library_service(self) -> None:
        minutes = {p: self.series(13000 * PLACE_WEIGHT[p], 52, 180) for p in PLACES}
        for index, month in enumerate(self.months):
            rows = [["Month", "Area", "Minutes of reading sessions"]]
            for place, series in minutes.items():
                area = PLACES[place].upper()
                value = str(round(series.at(index)))
                if month.key == PLANTED["unknown_place"][1] and place == "north":
                    area = PLANTED["unknown_place"][2]
                if month.key == PLANTED["outlier"][1] and place == "north":
                    value = PLANTED["outlier"][2]
                rows.append([date(month.year, month.month, 1).isoformat(), area, value])
            self.write("library_service", f"library_service_{month.key}.csv", _csv_bytes(rows),
                       _arrival(self.rng, month, 10))
        partner, name, arrival = PLANTED["empty_file"]
        self.write(partner, name, b"", datetime.fromisoformat(arrival))

    # --- long CSV with day-first dates --------------------------------------------------
    def housing_trust(self) -> None:
        families = {p: self.series(240 * PLACE_WEIGHT[p], -0.25, 2.5) for p in PLACES}
        for index, month in enumerate(self.months):
            rows = [["Date", "Area", "Families"]]
            for place, series in families.items():
                rows.append([month.last_day.strftime("%d/%m/%Y"), PLACES[place],
                             str(round(series.at(index)))])
            late_by = 41 if month.key == "2025-12" else 0
            arrived = _arrival(self.rng, month, 15, late_by)
            if month.key >= PLANTED["joined_late"][1]:
                self.write("housing_trust", f"housing_trust_{month.key}.csv", _csv_bytes(rows),
                           arrived)


    # --- a price survey: medians per ward, and the city's own figure ------------------
    def childcare_info(self) -> None:
        fees = {p: self.series(205 + 18 * n, 0.9, 6) for n, p in enumerate(PLACES)}
        for index, month in enumerate(self.months):
            rows = [["Month", "Ward", "Providers surveyed", "Median weekly fee (GBP)"]]
            values = []
            for place, series in fees.items():
                fee = round(series.at(index), 2)
                values.append(fee)
                rows.append([month.key, PLACES[place], str(self.rng.randint(6, 14)), f"{fee:.2f}"])
            # The city's median as the service publishes it: over every provider's fee, which
            # the wards' medians do not give exactly.
            city = sorted(values)[1] + (sorted(values)[2] - sorted(values)[1]) * 0.6
            rows.append([month.key, FEE_ALL_WARDS, "", f"{city:.2f}"])
            self.write("childcare_info", f"childcare_prices_{month.key}.csv", _csv_bytes(rows),
                       _arrival(self.rng, month, 20))

    # --- a site report: activities at one centre reach the same families ------------------
    def community_centres(self) -> None:
        reach = {(p, c): self.series(30 + 8 * n, 0.6, 3)
                 for n, (p, centres) in enumerate(CENTRES.items()) for c in centres}
        for index, month in enumerate(self.months):
            if month.key < CENTRES_FROM:
                continue
            rows = [["Month", "Ward", "Centre", "Activity", "Families reached"]]
            for (place, centre), series in reach.items():
                families = round(series.at(index))
                for activity in ACTIVITIES:
                    # most families come to every activity; a few activities draw fewer
                    shown = families if self.rng.random() < 0.6 else \
                        max(0, families - self.rng.randint(1, 8))
                    rows.append([month.key, PLACES[place], centre, activity, str(shown)])
            self.write("community_centres", f"centres_activities_{month.key}.csv",
                       _csv_bytes(rows), _arrival(self.rng, month, 15))


def generate_sample_inbox(target: ProjectPaths | Path, seed: int = SEED) -> list[Path]:
    """Write the sample inbox and return the files written.

    ``target``: an initiative's paths, whose inbox gets the files and whose arrivals ledger
    records the simulated two years of history (each file arrived when its partner sent it:
    intake.arrivals, source "recorded"); or a bare inbox folder, for files alone (a run then
    counts them as arriving when it first sees them)."""
    inbox = target.inbox_dir if isinstance(target, ProjectPaths) else Path(target)
    sample = SampleInbox(inbox, seed)
    files = sample.generate()
    if isinstance(target, ProjectPaths):
        record_arrivals(target, files, "recorded", sample.arrivals)
    return files
