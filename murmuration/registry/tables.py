"""The registry as flat tables: one source of truth, many readers (dbt's ``registry`` sources,
the mapping suggester's code lookup). Each table's rows come from one function; its column types
stand beside them, so an empty table still has its columns."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from murmuration.registry.loader import Registry, normalise
from murmuration.registry.models import WHOLE_AREA, period_start
from murmuration.registry.yamlfile import RegistryError

Rows = list[dict]
S, F, INT, D = pa.string(), pa.float64(), pa.int64(), pa.date32()


def registry_tables(registry: Registry) -> dict[str, pa.Table]:
    """Every registry table dbt reads as a source, by name."""
    return {name: _table(rows(registry), TYPES.get(name)) for name, rows in TABLES.items()}


def _indicators(registry: Registry) -> Rows:
    catalogue = registry.catalogue
    units = {u.code: u for u in catalogue.units}
    groups = {g.code: g for g in catalogue.working_groups}
    rows = []
    for position, i in enumerate(catalogue.indicators):
        rule = registry.status_rule(i)
        quality = registry.quality_rule(i)
        rows.append({
            "indicator_code": i.code, "indicator_name": i.name, "short_name": i.label,
            "definition": " ".join(i.definition.split()), "unit": i.unit,
            "unit_name": units[i.unit].name or i.unit, "aggregation": i.aggregation.value,
            "place_aggregation": i.across_places, "time_aggregation": i.across_time,
            "is_additive": i.additive, "shows_contributions": i.shows_contributions,
            "direction": i.direction.value, "working_group_code": i.working_group,
            "working_group_name": groups[i.working_group].name, "by_place": i.by_place,
            "valid_min": i.valid_range.min, "valid_max": i.valid_range.max,
            "numerator_code": i.numerator, "denominator_code": i.denominator,
            "factor": i.factor, "decimals": i.decimals, "trend_periods": rule.trend_periods,
            "min_periods": rule.min_periods, "at_risk_tolerance": rule.at_risk_tolerance,
            "complete_share": rule.complete_share,
            **{f"quality_{name}": value for name, value in quality.model_dump().items()},
            "display_order": position,
        })
    return rows


def _indicator_dimensions(registry: Registry) -> Rows:
    return [{"indicator_code": i.code, "dimension_code": dimension}
            for i in registry.catalogue.indicators for dimension in i.dimensions]


def _places(registry: Registry) -> Rows:
    tree = registry.place_tree
    return [{"place_code": p.code, "place_name": p.name, "display_order": n,
             "parent_code": tree.parent[p.code], "place_depth": tree.depth[p.code],
             "level_code": tree.level_code[p.code], "level_name": tree.level_name[p.code]}
            for n, p in enumerate(registry.dimensions.places)]


def _place_ancestors(registry: Registry) -> Rows:
    """Every place with itself, each place above it and the whole area: what a total at a
    place adds up (a value counts at its own place and at every one above it)."""
    tree = registry.place_tree
    rows = [{"place_code": WHOLE_AREA, "ancestor_code": WHOLE_AREA, "distance": 0}]
    for p in registry.dimensions.places:
        chain = [p.code, *tree.ancestors(p.code)]
        rows += [{"place_code": p.code, "ancestor_code": code, "distance": k}
                 for k, code in enumerate(chain)]
        rows.append({"place_code": p.code, "ancestor_code": WHOLE_AREA,
                     "distance": len(chain)})
    return rows


def _categories(registry: Registry) -> Rows:
    return [{"dimension_code": d.code, "dimension_name": d.name, "category_code": c.code,
             "category_name": c.name, "display_order": n}
            for d in registry.dimensions.disaggregations for n, c in enumerate(d.categories)]


def _partners(registry: Registry) -> Rows:
    return [{"partner_code": p.code, "partner_name": p.name, "cadence": p.cadence.value,
             "report_grain": p.cadence.grain, "due_days": p.due_days,
             "supersede_by": (p.replaces or registry.initiative.supersede_by).value,
             "declares_units": bool(p.reporting_units),
             "reports_from": period_start(p.reports_from) if p.reports_from else None,
             "reports_until": period_start(p.reports_until) if p.reports_until else None}
            for p in registry.partners]


def _partner_indicators(registry: Registry) -> Rows:
    return [{"partner_code": p.code, "indicator_code": code}
            for p in registry.partners for code in p.indicators]


def _target_points(registry: Registry) -> Rows:
    rows = []
    for t in registry.targets:
        points = [("baseline", t.baseline), *(("milestone", m) for m in t.milestones),
                  ("target", t.target)]
        for sequence, (kind, point) in enumerate(points):
            rows.append({
                "indicator_code": t.indicator, "place_code": registry.place_code(t.place),
                "point_kind": kind,
                "sequence": sequence, "period": point.period,
                "period_start": period_start(point.period), "target_value": point.value,
                "note": point.note})
    return rows


def _mappings(registry: Registry) -> Rows:
    return [{"mapping_name": m.name, "layout": m.layout.value,
             "partner_source": "column" if m.partner.column else "folder",
             "duplicate_keys": m.duplicate_keys.value,
             "supersede_by": m.complete.value if m.complete else None,
             "dedupes_by_site": bool(m.dedupe_by),
             "period_formats": ", ".join(m.formats(registry.initiative.period_type.value)),
             "file": str(registry.mapping_files.get(m.name, ""))}
            for m in registry.mappings]


def _reporting_units(registry: Registry) -> Rows:
    return [{"partner_code": p.code, "unit_code": u.code, "unit_name": u.name,
             "text_key": normalise(text)}
            for p in registry.partners for u in p.reporting_units
            for text in sorted({u.code, u.name, *u.aliases})]


def code_lookup(registry: Registry) -> Rows:
    """Every text that stands for a code: registry names and aliases (for all mappings, marked
    ``*``) and each mapping's own ``codes``. Texts are compared normalised (case, accents and
    spacing ignored); a text that would mean two codes is an error, never a guess."""
    entries: dict[tuple[str, str, str], str] = {}
    problems: list[str] = []

    def add(mapping: str, role: str, text: str, code: str, where: str) -> None:
        key = (mapping, role, normalise(text))
        if entries.get(key, code) != code:
            problems.append(f"{where}: {text!r} would mean both {entries[key]!r} and {code!r} "
                            f"for {role}")
        entries[key] = code

    for i in registry.catalogue.indicators:
        for text in sorted({i.code, i.name, i.label, *i.aliases}):
            add("*", "indicator", text, i.code, "registry/indicators.yaml")
    add("*", "place", WHOLE_AREA, WHOLE_AREA, "(built in: the whole area)")
    whole_area = registry.dimensions.whole_area
    for text in [whole_area.name, *whole_area.aliases]:
        add("*", "place", text, WHOLE_AREA, "registry/dimensions.yaml")
    for p in registry.dimensions.places:
        for text in [p.code, p.name, *p.aliases]:
            add("*", "place", text, p.code, "registry/dimensions.yaml")
    for d in registry.dimensions.disaggregations:
        for c in d.categories:
            for text in [c.code, c.name, *c.aliases]:
                add("*", d.code, text, c.code, "registry/dimensions.yaml")
    for p in registry.partners:
        for text in [p.code, p.name, *p.aliases]:
            add("*", "partner", text, p.code, "registry/partners.yaml")
    for m in registry.mappings:
        for role, codes in m.codes.items():
            for text, code in codes.items():
                if role == "place":  # a place code as written in any case
                    code = registry.place_code(code) or code
                add(m.name, role, text, code, str(registry.mapping_files.get(m.name, m.name)))
    if problems:
        raise RegistryError(problems)
    return [{"mapping_name": m, "role": r, "text_key": t, "code": c}
            for (m, r, t), c in sorted(entries.items())]


def _relations(registry: Registry) -> Rows:
    return [{"relation_id": n, "kind": r.kind.value, "a_code": r.a, "b_code": r.b,
             "tolerance": r.tolerance, "description": r.description}
            for n, r in enumerate(registry.catalogue.relations)]


def _combo_lookup(registry: Registry) -> Rows:
    return [{"mapping_name": m.name, "combo_key": normalise(combo), "dimension_code": d,
             "category_text": c}
            for m in registry.mappings for combo, parts in m.combos.items()
            for d, c in parts.items()]


def _unit_factors(registry: Registry) -> Rows:
    units = {u.code: u for u in registry.catalogue.units}
    rows = []
    for m in registry.mappings:
        for code, partner_unit in m.units.items():
            unit = registry.indicators[code].unit
            factor = 1.0 if partner_unit == unit else units[unit].conversions[partner_unit]
            rows.append({"mapping_name": m.name, "indicator_code": code,
                         "partner_unit": partner_unit, "factor": factor})
    return rows


TABLES: dict[str, Callable[[Registry], Rows]] = {
    "indicators": _indicators, "indicator_dimensions": _indicator_dimensions,
    "places": _places, "place_ancestors": _place_ancestors, "categories": _categories, "partners": _partners,
    "partner_indicators": _partner_indicators, "target_points": _target_points,
    "mappings": _mappings, "reporting_units": _reporting_units, "code_lookup": code_lookup,
    "relations": _relations, "combo_lookup": _combo_lookup, "unit_factors": _unit_factors,
}

# Column types where the rows alone cannot tell them (no rows, or every value empty).
TYPES: dict[str, dict[str, pa.DataType]] = {
    "indicators": {"valid_min": F, "valid_max": F, "numerator_code": S,
                   "denominator_code": S, "factor": F},
    "indicator_dimensions": {"indicator_code": S, "dimension_code": S},
    "places": {"parent_code": S, "level_code": S, "level_name": S},
    "categories": {"dimension_code": S, "dimension_name": S, "category_code": S,
                   "category_name": S, "display_order": INT},
    "partners": {"reports_from": D, "reports_until": D},
    "partner_indicators": {"partner_code": S, "indicator_code": S},
    "target_points": {"indicator_code": S, "place_code": S, "point_kind": S, "sequence": INT,
                      "period": S, "period_start": D, "target_value": F, "note": S},
    "reporting_units": {"partner_code": S, "unit_code": S, "unit_name": S, "text_key": S},
    "relations": {"relation_id": INT, "kind": S, "a_code": S, "b_code": S, "tolerance": F,
                  "description": S},
    "combo_lookup": {"mapping_name": S, "combo_key": S, "dimension_code": S,
                     "category_text": S},
    "unit_factors": {"mapping_name": S, "indicator_code": S, "partner_unit": S, "factor": F},
    "mappings": {"supersede_by": S},
}


def _table(rows: Rows, types: dict[str, pa.DataType] | None = None) -> pa.Table:
    if rows:
        table = pa.Table.from_pylist(rows)
        for name, kind in (types or {}).items():
            if name in table.column_names:
                index = table.column_names.index(name)
                table = table.set_column(index, name, table.column(name).cast(kind))
        for index, column in enumerate(table.schema):
            if pa.types.is_null(column.type):  # every value empty: still a typed column
                table = table.set_column(index, column.name, table.column(index).cast(pa.string()))
        return table
    return pa.schema(list((types or {}).items())).empty_table()
