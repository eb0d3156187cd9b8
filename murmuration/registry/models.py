"""The shape of the initiative's definitions: indicators, places, disaggregations, partners, targets.

These models are the single source of truth for what a definition may say. The dbt models, the
Great Expectations suites, the dashboard labels and the docs all read the validated objects.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from murmuration.paths import DBT_PROJECT_DIR

CODE_PATTERN = r"^[a-z][a-z0-9_]*$"
PERIOD_PATTERN = re.compile(r"^\d{4}-(?:0[1-9]|1[0-2])$")
WEEK_PATTERN = re.compile(r"^\d{4}-W(?:0[1-9]|[1-4][0-9]|5[0-3])$")
WHOLE_AREA: str = yaml.safe_load(
    (DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]["whole_area"]
"""Place code for values reported for the whole area rather than one place, and for totals over
every place (its home is the dbt var ``whole_area``, dbt_project.yml)."""

Code = Annotated[str, Field(pattern=CODE_PATTERN, description="lower-case letters, digits, _")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_period(value: str) -> str:
    value = str(value)
    if not (PERIOD_PATTERN.match(value) or WEEK_PATTERN.match(value)):
        raise ValueError(f"period {value!r} must be written YYYY-MM (a month, e.g. 2025-03) or "
                         "YYYY-Www (an ISO week, e.g. 2025-W07)")
    return value


def period_type_of(value: str) -> str:
    return "week" if WEEK_PATTERN.match(value) else "month"


def period_start(value: str) -> date:
    """The first day of a period written YYYY-MM, or the Monday of one written YYYY-Www."""
    if WEEK_PATTERN.match(value):
        year, week = value.split("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    year, month = value.split("-")
    return date(int(year), int(month), 1)


PeriodText = Annotated[str, Field(description="YYYY-MM or YYYY-Www")]


class Aggregation(StrEnum):
    """How an indicator's values roll up across partners and places (DHIS2's aggregation type,
    docs/registry.md, "How values roll up"). ``latest`` is a count at a point in time: summed across places,
    the last value of each series across time (DHIS2's LAST, sum in the org unit hierarchy)."""

    SUM = "sum"
    MEAN = "mean"
    MEDIAN = "median"
    MIN = "min"
    MAX = "max"
    COUNT = "count"
    RATIO = "ratio"
    LATEST = "latest"


class TimeAggregation(StrEnum):
    """How each series (partner x reporting unit x place x breakdown) rolls up from its months
    (or weeks) to a quarter or a year, before the series are rolled up across places."""

    SUM = "sum"
    MEAN = "mean"
    MEDIAN = "median"
    MIN = "min"
    MAX = "max"
    COUNT = "count"
    LAST = "last"
    FIRST = "first"


# The aggregation across places that sums (so each partner's part adds up to the total, and
# breakdown panels add up); the others (mean, median, min, max) are not shares of anything.
ADDITIVE = {Aggregation.SUM, Aggregation.COUNT, Aggregation.LATEST}


class Direction(StrEnum):
    HIGHER = "higher_is_better"
    LOWER = "lower_is_better"
    NEUTRAL = "neutral"


class Cadence(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"

    @property
    def grain(self) -> str:
        """The period one report covers: week, month or quarter."""
        return {"weekly": "week", "monthly": "month", "quarterly": "quarter"}[self.value]


class StatusRule(Strict):
    """How milestone status is decided (see docs/judging.md, "Milestone status")."""

    trend_periods: int = Field(6, ge=2, description="recent periods the trend line is fitted on")
    min_periods: int = Field(3, ge=2, description="fewer periods with data than this: no data")
    at_risk_tolerance: float = Field(
        0.10, ge=0, le=1,
        description="projected shortfall, as a share of the progress the milestone asks for, "
                    "that still counts as at risk rather than off track")
    complete_share: float = Field(
        0.9, gt=0, le=1,
        description="a period counts as complete (and is used for status and projection) when "
                    "at least this share of the partners expected to report it did")


class QualityRule(Strict):
    """Data quality thresholds (WHO Data Quality Review defaults; see docs/checks.md, "Checks")."""

    outlier_moderate_z: float = Field(2.0, gt=0, description="|z| at or above: moderate outlier")
    outlier_moderate_modified_z: float = Field(3.5, gt=0,
                                               description="modified z at or above: moderate")
    outlier_extreme_z: float = Field(3.0, gt=0, description="|z| at or above: extreme outlier")
    outlier_extreme_modified_z: float = Field(5.0, gt=0,
                                              description="modified z at or above: extreme")
    outlier_min_history: int = Field(
        6, ge=3, description="values a series needs before outliers are judged")
    outlier_moderate_persistence: int = Field(
        2, ge=1, description="periods in a row beyond the moderate thresholds, on the same side "
                             "of the trend, before they are flagged (1: every crossing; about "
                             "one value in 20 crosses |z| = 2 by chance). Extreme ones always are")
    consistency_periods: int = Field(3, ge=1, description="preceding periods averaged")
    consistency_tolerance: float = Field(
        0.33, gt=0, description="flag when current / mean of preceding periods is outside "
                                "1 +/- this")


class Scorecard(Strict):
    """How a partner's submission quality is scored (see docs/checks.md, "Submission scorecard")."""

    completeness_target: float = Field(0.90, ge=0, le=1, description="WHO DQR default")
    timeliness_target: float = Field(0.75, ge=0, le=1, description="WHO DQR default")
    recent_reports: int = Field(12, ge=1, le=120,
                                description="a partner's scorecard covers its latest this many "
                                            "expected reports")
    weights: dict[str, float] = Field(
        {"completeness": 0.3, "timeliness": 0.2, "validity": 0.3, "plausibility": 0.2},
        description="weights of the parts in the composite score (they must add up to 1)")

    @model_validator(mode="after")
    def _weights(self):
        parts = {"completeness", "timeliness", "validity", "plausibility"}
        if set(self.weights) != parts:
            raise ValueError(f"weights must name exactly {', '.join(sorted(parts))}")
        if abs(sum(self.weights.values()) - 1) > 1e-9:
            raise ValueError(f"weights must add up to 1 (they add up to "
                             f"{sum(self.weights.values()):g})")
        return self


class PeriodType(StrEnum):
    MONTH = "month"
    WEEK = "week"


class OverlapRule(StrEnum):
    LATEST_ARRIVAL = "latest_arrival"
    PARTNER_FILES_FIRST = "partner_files_first"


class SupersedeBy(StrEnum):
    """What one submission replaces: the slices it reports values in, at this grain."""

    PERIOD = "period"          # partner x reporting unit x period
    INDICATOR = "indicator"    # ... x indicator
    PLACE = "place"            # ... x indicator x place
    VALUE = "value"            # ... x indicator x place x breakdown (one key, as in DHIS2: the
    #                            default, create-and-update)
    ADDITIVE = "additive"      # nothing is replaced: files add up (one file per site or week)


class CompleteReturn(StrEnum):
    """A partner's (or a mapping's) files are complete returns at this grain: a key it no
    longer sends there is withdrawn (DHIS2's import replaces only the keys sent otherwise)."""

    PERIOD = "period"
    INDICATOR = "indicator"
    PLACE = "place"


class SmallCells(Strict):
    """Small-cell suppression (docs/dashboard.md, "Small cells"): for the roles listed, a value built from
    fewer than min_contributors partners is shown as suppressed, and one more cell of the same
    total is suppressed with it so it cannot be worked out from the total and the others."""

    min_contributors: int = Field(1, ge=1, le=100, description="1: nothing is suppressed")
    roles: list[Literal["steering", "working_group", "partner"]] = Field(
        [], description="the roles that must not see small cells (the backbone's data team "
                        "always sees every value)")


class Limits(Strict):
    """What one received file may hold (docs/judging.md, "Limits"). A file over a limit is not read: it
    is kept byte for byte as received and becomes a submission that could not be read, with a
    reason naming the limit; the rest of the run goes on."""

    file_mb: float = Field(100, gt=0, description="largest file, in MB (checked first, on the "
                                                  "file's size)")
    rows: int = Field(1_000_000, ge=1, description="most rows in a file (all sheets together; "
                                                   "a DHIS2 export's data values)")
    columns: int = Field(2_000, ge=1, description="most columns in a row of a file")
    sheets: int = Field(50, ge=1, description="most sheets in a workbook")
    workbook_expanded_mb: float = Field(
        200, gt=0, description="most MB a workbook's parts (sheets, shared texts, styles; "
                               "not pictures) take once unzipped, counted as they are "
                               "unzipped before it is opened, whatever its zip directory says")
    json_depth: int = Field(64, ge=3, description="deepest nesting of a JSON file's objects "
                                                  "and lists (a DHIS2 export needs 3)")
    cell_chars_in_messages: int = Field(
        200, ge=10, le=100_000, description="characters of a partner's cell quoted in a "
                                            "quarantine reason; a longer cell is cut, with its "
                                            "length")


class Intake(Strict):
    """How files are taken from the inbox (docs/judging.md, "Arrival, and files still being written")."""

    settle_seconds: float = Field(
        10, ge=0, le=3600, description="a file is taken once its size and modification time "
                                       "have not changed for this long (a file still being "
                                       "written is left for a later run)")


class Initiative(Strict):
    name: str
    description: str = ""
    period_type: PeriodType = PeriodType.MONTH
    status_rule: StatusRule = StatusRule()
    overlap_rule: OverlapRule = Field(
        OverlapRule.LATEST_ARRIVAL,
        description="when two submissions report the same partner and period: the one that "
                    "arrived last wins (latest_arrival), or a partner's own file wins over a "
                    "consolidated file from a shared folder, whenever it arrived "
                    "(partner_files_first)")
    supersede_by: SupersedeBy = Field(
        SupersedeBy.VALUE,
        description="what a submission replaces: by default exactly the keys it sends "
                    "(value: create-and-update, as DHIS2 imports); coarser slices (place, "
                    "indicator, period) for complete returns, where a key not sent again is "
                    "withdrawn; or nothing (additive)")
    refresh_every_weeks: int = Field(1, ge=1, le=4, description="full refresh schedule: 1 = "
                                                                "weekly, 2 = every two weeks")
    reporting_start: PeriodText | None = Field(
        None, description="first period every partner is expected to report (default: the "
                          "partner's reports_from, else the earliest period with data)")
    quality: QualityRule = QualityRule()
    scorecard: Scorecard = Scorecard()
    small_cells: SmallCells = SmallCells()
    limits: Limits = Field(Limits(), description="what one received file may hold before it is "
                                                 "set aside unread (docs/judging.md, \"Limits\")")
    intake: Intake = Intake()

    _start = field_validator("reporting_start")(
        lambda cls, v: None if v is None else check_period(v))


class Category(Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_+\-]*$")
    name: str
    aliases: list[str] = []


class Disaggregation(Strict):
    code: Code
    name: str
    categories: list[Category] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self):
        _require_unique([c.code for c in self.categories], "category code")
        return self


PLACE_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
PlaceCode = Annotated[str, Field(pattern=PLACE_CODE_PATTERN,
                                 description="letters, digits, _ . - (P-codes as written: "
                                             "AF01, SY0200; matched case-insensitively)")]


class Place(Strict):
    code: PlaceCode
    name: str
    aliases: list[str] = []
    level: str | None = Field(None, description="the level's code (levels), e.g. province")
    parent: str | None = Field(None, description="the code of the place one level up; none "
                                                 "for a top-level place (under the whole area)")

    @field_validator("code")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value.lower() == WHOLE_AREA:
            raise ValueError(f"'{WHOLE_AREA}' is reserved for the whole area; choose another code")
        return value


class Level(Strict):
    """One level of the place hierarchy (DHIS2's organisation unit level, an admin level of
    OCHA's Common Operational Datasets)."""

    code: Code
    name: str


class WholeArea(Strict):
    """The initiative's whole area (place code ``all``): its name and the texts files use for
    it (a national row, the country's P-code)."""

    name: str = "Whole area"
    aliases: list[str] = []


class Dimensions(Strict):
    levels: list[Level] = Field(
        [], description="the place hierarchy's levels, top to bottom (below the whole area)")
    whole_area: WholeArea = WholeArea()
    places: list[Place] = Field(min_length=1)
    disaggregations: list[Disaggregation] = []

    @model_validator(mode="after")
    def _unique(self):
        _require_unique([p.code.lower() for p in self.places], "place code (case ignored)")
        _require_unique([lv.code for lv in self.levels], "level code")
        _require_unique([d.code for d in self.disaggregations], "disaggregation code")
        if any(d.code == "place" for d in self.disaggregations):
            raise ValueError("'place' is built in: list places under places, not disaggregations")
        return self

class ValidRange(Strict):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self):
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is greater than max ({self.max:g})")
        return self


class Unit(Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_ ]*$")
    name: str = ""
    conversions: dict[str, float] = Field(
        {}, description="partner unit -> factor that converts it to this unit")


class WorkingGroup(Strict):
    code: Code
    name: str
    description: str = ""


class Indicator(Strict):
    code: Code
    name: str
    short_name: str | None = None
    aliases: list[str] = Field([], description="other wordings partners use for it; every "
                                                "mapping resolves them")
    definition: str
    unit: str
    aggregation: Aggregation = Field(
        description="across partners and places: sum, mean, median, min, max, count, ratio "
                    "(numerator / denominator x factor) or latest (a count at a point in time)")
    time_aggregation: TimeAggregation | None = Field(
        None, description="from months (or weeks) to a quarter or year, per series: sum, "
                          "mean, median, min, max, count, last or first (default: as "
                          "`aggregation`; last for latest, sum for ratio)")
    direction: Direction
    working_group: str
    disaggregations: list[str] = Field(
        [], description="'place' and/or disaggregation codes values may be broken down by")
    valid_range: ValidRange = ValidRange()
    numerator: str | None = None
    denominator: str | None = None
    factor: float = 1.0
    decimals: int = Field(0, ge=0, le=6)
    status_rule: StatusRule | None = None
    quality: QualityRule | None = None

    @model_validator(mode="after")
    def _ratio_parts(self):
        if self.aggregation is Aggregation.RATIO:
            if not (self.numerator and self.denominator):
                raise ValueError("a ratio indicator needs a numerator and a denominator")
            if self.time_aggregation not in (None, TimeAggregation.SUM, TimeAggregation.LAST):
                raise ValueError("a ratio adds up its parts over time (time_aggregation: sum) "
                                 "or takes each series' last period (last)")
        elif self.numerator or self.denominator:
            raise ValueError("numerator and denominator are only for aggregation: ratio")
        if self.aggregation is Aggregation.LATEST and \
                self.time_aggregation not in (None, TimeAggregation.LAST):
            raise ValueError("latest is a sum across places of each series' last value; for "
                             "another rule over time write aggregation: sum with "
                             "time_aggregation")
        return self

    @property
    def across_places(self) -> str:
        """The rule across partners and places, as the marts apply it (latest sums)."""
        return "sum" if self.aggregation is Aggregation.LATEST else self.aggregation.value

    @property
    def across_time(self) -> str:
        """The rule from base periods to quarters and years, per series."""
        if self.time_aggregation is not None:
            return self.time_aggregation.value
        return {Aggregation.LATEST: "last", Aggregation.RATIO: "sum"}.get(
            self.aggregation, self.aggregation.value)

    @property
    def additive(self) -> bool:
        """Partners' and places' parts add up to the total (breakdown panels add up)."""
        return self.aggregation in ADDITIVE

    @property
    def shows_contributions(self) -> bool:
        """Each partner's part means something beside the total: a share of a sum, or a
        partner's own ratio; a partner's part of a median price is not a part of anything."""
        return self.additive or self.aggregation is Aggregation.RATIO

    @property
    def by_place(self) -> bool:
        return "place" in self.disaggregations

    @property
    def dimensions(self) -> list[str]:
        """Disaggregation codes other than place."""
        return [d for d in self.disaggregations if d != "place"]

    @property
    def label(self) -> str:
        return self.short_name or self.name


class RelationKind(StrEnum):
    SIMILAR = "similar"
    AT_LEAST = "at_least"
    DROPOUT = "dropout"


class Relation(Strict):
    """A WHO Data Quality Review consistency check between two related indicators, per partner,
    period and place: ``similar`` flags A / B outside 1 +/- tolerance; ``at_least`` flags
    A / B below 1 - tolerance (A should not be smaller than B); ``dropout`` flags
    (A - B) / A below 0 (more finished than started)."""

    kind: RelationKind
    a: str
    b: str
    tolerance: float = Field(0.10, ge=0, le=1)
    description: str = ""


class IndicatorCatalogue(Strict):
    working_groups: list[WorkingGroup] = Field(min_length=1)
    units: list[Unit] = Field(min_length=1)
    indicators: list[Indicator] = Field(min_length=1)
    relations: list[Relation] = []

    @model_validator(mode="after")
    def _unique(self):
        _require_unique([w.code for w in self.working_groups], "working group code")
        _require_unique([u.code for u in self.units], "unit code")
        _require_unique([i.code for i in self.indicators], "indicator code")
        return self


class ReportingUnit(Strict):
    """An office, project or implementing partner that sends its own files for a partner."""

    code: Code
    name: str
    aliases: list[str] = []


class Partner(Strict):
    code: Code
    name: str
    aliases: list[str] = []
    reporting_units: list[ReportingUnit] = Field(
        [], description="the partner's units; when listed, a unit name in a file must be one "
                        "of them (else any name is a unit)")
    supersede_by: SupersedeBy | None = Field(
        None, description="overrides the initiative's supersede_by for this partner")
    complete: CompleteReturn | None = Field(
        None, description="the partner's files are complete returns for each period (or "
                          "period and indicator, or place): a key it no longer sends is "
                          "withdrawn (the same as supersede_by: period, indicator or place)")
    cadence: Cadence = Cadence.MONTHLY
    due_days: int = Field(15, ge=0, le=366, description="days after the period ends")
    reports_from: PeriodText | None = None
    reports_until: PeriodText | None = None
    indicators: list[str] = []

    _period = field_validator("reports_from", "reports_until")(
        lambda cls, v: None if v is None else check_period(v))

    @model_validator(mode="after")
    def _units(self):
        _require_unique([u.code for u in self.reporting_units], "reporting unit code")
        if self.complete is not None and self.supersede_by is not None:
            raise ValueError("give complete or supersede_by, not both (complete: indicator "
                             "is supersede_by: indicator)")
        return self

    @property
    def replaces(self) -> SupersedeBy | None:
        """The partner's own rule of what a file replaces (None: the initiative's)."""
        return SupersedeBy(self.complete.value) if self.complete else self.supersede_by


class PartnerList(Strict):
    partners: list[Partner] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self):
        _require_unique([p.code for p in self.partners], "partner code")
        return self


class TargetPoint(Strict):
    period: PeriodText
    value: float
    note: str = ""

    _period = field_validator("period")(lambda cls, v: check_period(v))


class Target(Strict):
    indicator: str
    place: str = Field(WHOLE_AREA, description="a place code, at any level, or the whole area")
    baseline: TargetPoint
    milestones: list[TargetPoint] = []
    target: TargetPoint

    @model_validator(mode="after")
    def _in_order(self):
        periods = [self.baseline.period, *(m.period for m in self.milestones), self.target.period]
        if periods != sorted(periods) or len(set(periods)) != len(periods):
            raise ValueError("baseline, milestones and target must be in period order, "
                             f"each period once (got {', '.join(periods)})")
        return self


class TargetList(Strict):
    targets: list[Target] = []


def _require_unique(codes: list[str], what: str) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise ValueError(f"{what} {code!r} is listed twice")
        seen.add(code)
