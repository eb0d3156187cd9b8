"""The expectation suite for harmonised values, generated from the registry (never hand-edited).

Every expectation here is derived from a registry fact: an indicator's valid range, its allowed
breakdowns, the partner and place lists. Change the registry and the suite follows.
"""

from __future__ import annotations

import hashlib
import itertools
import json

import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column

from murmuration.registry import Registry
from murmuration.registry.models import PERIOD_PATTERN, WEEK_PATTERN, WHOLE_AREA, Indicator

SUITE_NAME = "harmonised_values"
KEY_COLUMNS = ["indicator_code", "partner_code", "reporting_unit", "period", "place_code",
               "disaggregation", "value"]
NUMBER_TYPES = ["float", "float64", "Float64", "double", "int", "int64", "Int64"]


def disaggregation_key(parts: dict[str, str]) -> str:
    """The breakdown key dbt writes: ``dimension=category`` pairs by dimension code, or 'total'.

    The SQL twin is the ``string_agg`` in int_records_resolved.sql.
    """
    return ";".join(f"{d}={c}" for d, c in sorted(parts.items())) or "total"


def allowed_disaggregations(indicator: Indicator, registry: Registry) -> list[str]:
    """Every breakdown key an indicator may carry: each dimension absent or one category."""
    dimensions = {d.code: d for d in registry.dimensions.disaggregations}
    options = [[None, *(c.code for c in dimensions[code].categories)]
               for code in indicator.dimensions]
    keys = []
    for choice in itertools.product(*options):
        parts = {code: category for code, category in zip(indicator.dimensions, choice,
                                                          strict=True) if category is not None}
        keys.append(disaggregation_key(parts))
    return sorted(keys)


def suite_expectations(registry: Registry) -> list:
    """All expectations of the harmonised-values suite, in a stable order."""
    reported = registry.reported_indicators
    places = [p.code for p in registry.dimensions.places]
    expectations: list = [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in KEY_COLUMNS]
    expectations += [
        gxe.ExpectColumnValuesToBeInTypeList(column="value", type_list=NUMBER_TYPES),
        # One value per key (and site, when the mapping names a site's columns: dedupe_by),
        # unless the mapping says how rows with the same key combine (sum, max, first).
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["submission_id", *KEY_COLUMNS[:-1], "dedupe_key"],
            row_condition=Column("duplicate_keys") == "quarantine"),
        gxe.ExpectColumnValuesToBeInSet(column="indicator_code",
                                        value_set=[i.code for i in reported]),
        gxe.ExpectColumnValuesToBeInSet(column="partner_code",
                                        value_set=[p.code for p in registry.partners]),
        gxe.ExpectColumnValuesToMatchRegex(
            column="period", regex=(WEEK_PATTERN if registry.initiative.period_type.value == "week"
                                    else PERIOD_PATTERN).pattern),
    ]
    for indicator in reported:
        only = Column("indicator_code") == indicator.code
        bounds = indicator.valid_range
        if bounds.min is not None or bounds.max is not None:
            expectations.append(gxe.ExpectColumnValuesToBeBetween(
                column="value", min_value=bounds.min, max_value=bounds.max, row_condition=only))
        expectations.append(gxe.ExpectColumnValuesToBeInSet(
            column="disaggregation", value_set=allowed_disaggregations(indicator, registry),
            row_condition=only))
        # A value by place is at any level of the hierarchy, the whole area's included (a file
        # reporting a region's or the country's figure); otherwise at the whole area only.
        expectations.append(gxe.ExpectColumnValuesToBeInSet(
            column="place_code", value_set=[WHOLE_AREA, *places] if indicator.by_place
            else [WHOLE_AREA], row_condition=only))
    return expectations


def suite_fingerprint(expectations: list) -> str:
    """Changes whenever any expectation changes; stored with results to know what is stale."""
    text = json.dumps([expectation_key(e) for e in expectations], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def expectation_key(expectation) -> list:
    body = expectation.dict(exclude={"id", "rendered_content", "notes", "meta"})
    return [expectation.expectation_type, json.dumps(body, sort_keys=True, default=str)]
