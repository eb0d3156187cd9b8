"""A synthetic initiative at any size, in the sample's mix of shapes and mess.

Partners send long CSVs (two indicators x sex per place), wide Excel returns (title rows, one
column per indicator x sex, a total row) or DHIS2 dataValueSets JSON (codes resolved through the
registry's aliases). About 0.5 % of values are not numbers, 0.2 % lost a decimal point (x10),
place names come in two spellings, and one partner resubmits a corrected month. Deterministic:
a fixed seed and fixed arrival times.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from murmuration.intake.arrivals import record as record_arrivals
from murmuration.paths import ProjectPaths

SEED = 7
FIRST_YEAR = 2023
INDICATORS = (("people_reached", "People reached"), ("people_referred", "People referred"))
SHAPES = ("csv", "excel", "json")
SHARE = {"csv": 0.6, "excel": 0.25, "json": 0.15}


@dataclass(frozen=True)
class Size:
    name: str
    partners: int
    months: int
    places: int

    @property
    def values(self) -> int:
        return self.partners * self.months * self.places * 4

    @property
    def files(self) -> int:
        return self.partners * self.months


SIZES = {
    "S": Size("S", 20, 12, 50),        # 48 k values, 240 files
    "M": Size("M", 120, 24, 350),      # 4.0 M values, 2,880 files
    "L": Size("L", 300, 36, 925),      # 40 M values, 10,800 files (by hand)
}


def shape_of(partner: int, partners: int) -> str:
    """The first 60 % of partners send CSV, the next 25 % Excel, the rest DHIS2 JSON."""
    share = partner / partners
    return "csv" if share < SHARE["csv"] else "excel" if share < SHARE["csv"] + SHARE[
        "excel"] else "json"


def month_key(month: int) -> tuple[int, int]:
    return FIRST_YEAR + month // 12, month % 12 + 1


def write_initiative(root: Path, size: Size) -> ProjectPaths:
    """The definitions (registry and three mappings) and every partner's files."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "registry").mkdir(exist_ok=True)
    (root / "mappings").mkdir(exist_ok=True)

    def dump(path: Path, data) -> None:
        path.write_text(yaml.safe_dump(data, sort_keys=False))

    # Files are complete returns per indicator (the floor script's rule: the latest file speaks
    # for each partner, period and indicator), so both do the same work.
    dump(root / "initiative.yaml", {"name": f"Benchmark initiative {size.name}",
                                    "period_type": "month",
                                    "reporting_start": f"{FIRST_YEAR}-01",
                                    "supersede_by": "indicator"})
    dump(root / "registry" / "dimensions.yaml", {
        "places": [{"code": f"p{n:04d}", "name": f"Place {n}", "aliases": [f"OU{n:06d}"]}
                   for n in range(size.places)],
        "disaggregations": [{"code": "sex", "name": "Sex", "categories": [
            {"code": "f", "name": "Female", "aliases": ["F", "COC_F"]},
            {"code": "m", "name": "Male", "aliases": ["M", "COC_M"]}]}]})
    dump(root / "registry" / "indicators.yaml", {
        "working_groups": [{"code": "main", "name": "Main"}],
        "units": [{"code": "people", "name": "people"}],
        "indicators": [
            {"code": code, "name": name, "aliases": [f"DE_{code.upper()}"], "definition": name,
             "unit": "people", "aggregation": "sum", "direction": "higher_is_better",
             "working_group": "main", "disaggregations": ["place", "sex"],
             "valid_range": {"min": 0, "max": 10000}}
            for code, name in INDICATORS],
        "relations": [{"kind": "at_least", "a": "people_reached", "b": "people_referred"}]})
    dump(root / "registry" / "partners.yaml", {"partners": [
        {"code": f"partner_{n:03d}", "name": f"Partner {n}", "due_days": 15,
         "indicators": [code for code, _ in INDICATORS]} for n in range(size.partners)]})
    dump(root / "registry" / "targets.yaml", {"targets": [
        {"indicator": "people_reached", "baseline": {"period": f"{FIRST_YEAR}-01",
                                                     "value": 1000},
         "target": {"period": f"{FIRST_YEAR + 3}-12", "value": 2000}}]})
    folders = {shape: [f"partner_{n:03d}" for n in range(size.partners)
                       if shape_of(n, size.partners) == shape] for shape in SHAPES}
    mappings = {}
    mappings["csv"] = {
        "name": "long_csv", "applies_to": {"folders": folders["csv"], "files": ["*.csv"]},
        "columns": {"period": "Month", "place": "Place", "indicator": "Indicator",
                    "value": "Value", "disaggregations": {"sex": "Sex"}}}
    mappings["excel"] = {
        "name": "wide_excel", "applies_to": {"folders": folders["excel"], "files": ["*.xlsx"]},
        "reader": {"sheet": "Return", "header_row": "auto"}, "layout": "wide",
        "columns": {"period": "Month", "place": "Place"},
        "values": [{"column": f"{name} {sex}", "indicator": code,
                    "disaggregation": {"sex": sex.lower()}}
                   for code, name in INDICATORS for sex in ("F", "M")],
        "summary_rows": [{"column": "place", "values": ["Total"]}]}
    mappings["json"] = {
        "name": "dhis2_json", "applies_to": {"folders": folders["json"], "files": ["*.json"]},
        "reader": {"format": "dhis2_json"},
        "columns": {"period": "period", "place": "orgUnit", "indicator": "dataElement",
                    "value": "value", "combo": "categoryOptionCombo"},
        "period_formats": ["%Y%m"],
        "combos": {"COC_F": {"sex": "f"}, "COC_M": {"sex": "m"}}}
    for shape, mapping in mappings.items():
        if folders[shape]:  # a size too small for every shape has no partner of some
            dump(root / "mappings" / f"{mapping['name']}.yaml", mapping)
    # Partners' files are independent (each partner has its own seed): written side by side.
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        files = list(pool.map(_partner_files, [root / "inbox"] * size.partners,
                              [size] * size.partners, range(size.partners)))
    paths = ProjectPaths.for_project(root)
    record_arrivals(paths, [f for written, _ in files for f in written], "recorded",
                    [a for _, arrived in files for a in arrived])
    return paths


def figures(rng: random.Random, level: float, month: int, size: Size):
    """(place, sex, reached text, referred text) for one partner-month, with the mess."""
    for place in range(size.places):
        for sex in ("F", "M"):
            reached = max(0, round(rng.gauss(level * (1 + month / 48), level / 10)))
            if rng.random() < 0.002:
                reached *= 10  # a lost decimal point
            text = str(reached) if rng.random() > 0.005 else "tbc"
            yield place, sex, text, str(round(reached * 0.3))


def write_partner(inbox: Path, size: Size, partner: int, months: range | None = None,
                  changed: bool = False) -> list[Path]:
    """One partner's files (all months, or those given); ``changed`` alters the figures, as a
    corrected resubmission would."""
    written, arrivals = _partner_files(inbox, size, partner, months, changed)
    # Arrived when the partner sent it, as the pipeline's watcher would have recorded it.
    record_arrivals(ProjectPaths.for_project(inbox.parent), written, "recorded", arrivals)
    return written


def _partner_files(inbox: Path, size: Size, partner: int, months: range | None = None,
                   changed: bool = False) -> tuple[list[Path], list[datetime]]:
    rng = random.Random(SEED * 1000 + partner)
    level = rng.uniform(20, 200) * (1.1 if changed else 1.0)
    shape = shape_of(partner, size.partners)
    folder = inbox / f"partner_{partner:03d}"
    folder.mkdir(parents=True, exist_ok=True)
    written, arrivals = [], []
    for month in range(size.months):
        rows = list(figures(rng, level, month, size))
        if months is not None and month not in months:
            continue
        year, number = month_key(month)
        key = f"{year}-{number:02d}"
        suffix = "_corrected" if changed else ""
        if shape == "csv":
            path = folder / f"report_{key}{suffix}.csv"
            path.write_bytes(_csv(key, rows))
        elif shape == "excel":
            path = folder / f"return_{key}{suffix}.xlsx"
            _excel(path, key, rows)
        else:
            path = folder / f"dataValueSet_{year}{number:02d}{suffix}.json"
            path.write_bytes(_json(f"{year}{number:02d}", rows))
        month_end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
        arrived = month_end + timedelta(days=5 + partner % 9, hours=30 if changed else 0)
        os.utime(path, (arrived.timestamp(),) * 2)
        written.append(path)
        arrivals.append(arrived)
    return written, arrivals


def _place_name(place: int, partner_row: int) -> str:
    return f"PLACE {place}" if partner_row % 7 == 0 else f"Place {place}"


def _csv(key: str, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Month", "Place", "Indicator", "Sex", "Value"])
    for n, (place, sex, reached, referred) in enumerate(rows):
        writer.writerow([key, _place_name(place, n), "People reached", sex, reached])
        writer.writerow([key, _place_name(place, n), "People referred", sex, referred])
    return buffer.getvalue().encode()


def _excel(path: Path, key: str, rows) -> None:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Return")
    sheet.append(["Monthly return"])
    sheet.append([f"Reporting month: {key}"])
    sheet.append(["Month", "Place", *(f"{name} {sex}" for _, name in INDICATORS
                                      for sex in ("F", "M"))])
    by_place: dict[int, dict[str, tuple[str, str]]] = {}
    for place, sex, reached, referred in rows:
        by_place.setdefault(place, {})[sex] = (reached, referred)
    for place, sexes in by_place.items():
        cells = [sexes["F"][0], sexes["M"][0], sexes["F"][1], sexes["M"][1]]
        sheet.append([key, f"Place {place}",
                      *(int(c) if c.isdigit() else c for c in cells)])
    sheet.append([None, "Total", None, None, None, None])
    workbook.save(path)


def _json(period: str, rows) -> bytes:
    values = []
    for place, sex, reached, referred in rows:
        for element, value in (("DE_PEOPLE_REACHED", reached), ("DE_PEOPLE_REFERRED", referred)):
            values.append({"dataElement": element, "period": period, "orgUnit": f"OU{place:06d}",
                           "categoryOptionCombo": f"COC_{sex}", "value": value})
    return json.dumps({"dataSet": "BENCH", "period": period, "dataValues": values}).encode()
