"""Load an initiative's registry and mappings, check every cross-reference, report all problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from murmuration.paths import ProjectPaths
from murmuration.registry.mapping import Layout, Mapping
from murmuration.registry.models import (
    WHOLE_AREA,
    Aggregation,
    Cadence,
    Dimensions,
    Direction,
    Indicator,
    IndicatorCatalogue,
    Initiative,
    Partner,
    PartnerList,
    QualityRule,
    StatusRule,
    Target,
    TargetList,
    period_type_of,
)
from murmuration.registry.periods import format_problem
from murmuration.registry.places import PlaceTree, build_place_tree
from murmuration.registry.yamlfile import RegistryError, YamlDocument

REGISTRY_FILES = {
    "indicators": "indicators.yaml",
    "dimensions": "dimensions.yaml",
    "partners": "partners.yaml",
    "targets": "targets.yaml",
}


@dataclass(frozen=True)
class Registry:
    """Everything the initiative has agreed, validated and cross-checked."""

    initiative: Initiative
    catalogue: IndicatorCatalogue
    dimensions: Dimensions
    partners: list[Partner]
    targets: list[Target]
    mappings: list[Mapping]
    mapping_files: dict[str, Path] = field(default_factory=dict)

    @cached_property
    def indicators(self) -> dict[str, Indicator]:
        return {i.code: i for i in self.catalogue.indicators}

    @cached_property
    def place_tree(self) -> PlaceTree:
        return build_place_tree(self.dimensions)

    def place_code(self, text: str) -> str | None:
        """The place (or the whole area) a code stands for, its case ignored."""
        if text.lower() == WHOLE_AREA:
            return WHOLE_AREA
        return self._place_codes.get(text.lower())

    @cached_property
    def _place_codes(self) -> dict[str, str]:
        return {p.code.lower(): p.code for p in self.dimensions.places}

    @cached_property
    def partner_by_code(self) -> dict[str, Partner]:
        return {p.code: p for p in self.partners}

    @property
    def reported_indicators(self) -> list[Indicator]:
        """Indicators partners report values for (ratios are computed from their parts)."""
        return [i for i in self.catalogue.indicators if i.aggregation is not Aggregation.RATIO]

    def status_rule(self, indicator: Indicator) -> StatusRule:
        return indicator.status_rule or self.initiative.status_rule

    def quality_rule(self, indicator: Indicator) -> QualityRule:
        return indicator.quality or self.initiative.quality

    def mapping_for(self, folder: str, file_name: str) -> Mapping | None:
        """The first mapping (in file-name order) whose folders and patterns cover the file."""
        for mapping in self.mappings:
            if mapping.applies_to.matches(folder, file_name):
                return mapping
        return None

    def mappings_for(self, folder: str, file_name: str) -> tuple[list[Mapping], str | None]:
        """The mappings that read the file, and why only one does when several cover it. All
        of them apply when each reads a sheet of its own (reader.sheet); otherwise they would
        read the same rows twice, so the first in file-name order applies and the others are
        named, never dropped silently."""
        found = [m for m in self.mappings if m.applies_to.matches(folder, file_name)]
        if len(found) <= 1:
            return found, None
        sheets = [m.reader.sheet for m in found]
        if all(sheets) and len(set(sheets)) == len(sheets):
            return found, None
        others = ", ".join(m.name for m in found[1:])
        return [found[0]], (
            f"mappings {found[0].name} and {others} all cover '{file_name}' in inbox folder "
            f"'{folder}'; {found[0].name} applies (the first by file name) and {others} "
            f"{'does' if len(found) == 2 else 'do'} not, as they would read the same sheet: "
            "give each mapping its own sheet (reader.sheet) to apply them all, list every "
            "value column in one mapping (values, or periods as columns), or narrow their "
            "applies_to.files")

    def overlapping_mappings(self) -> list[str]:
        """Pairs of mappings whose folders and file patterns may cover the same files without
        each reading a sheet of its own (for `murmuration check`)."""
        import fnmatch

        notes = []
        for n, first in enumerate(self.mappings):
            for second in self.mappings[n + 1:]:
                folders = sorted(set(first.applies_to.folders) & set(second.applies_to.folders))
                if not folders:
                    continue
                if first.reader.sheet and second.reader.sheet and \
                        first.reader.sheet != second.reader.sheet:
                    continue
                patterns = [(a, b) for a in first.applies_to.files for b in second.applies_to.files
                            if a.lower() == b.lower() or fnmatch.fnmatch(a.lower(), b.lower())
                            or fnmatch.fnmatch(b.lower(), a.lower())]
                if patterns:
                    notes.append(f"mappings {first.name} and {second.name} both cover files "
                                 f"{patterns[0][0]!r} in {', '.join(folders)}: {first.name} "
                                 f"applies to such a file, {second.name} does not (give each "
                                 "its own sheet, or narrow applies_to.files)")
        return notes


def load_registry(paths: ProjectPaths) -> Registry:
    """Read and validate the initiative; raise RegistryError listing every problem found."""
    problems: list[str] = []

    def read(path: Path, model):
        if not path.exists():
            problems.append(f"{path}: file is missing")
            return None, None
        try:
            document = YamlDocument(path)
            return document, document.validate(model)
        except RegistryError as error:
            problems.extend(error.problems)
            return None, None

    _, initiative = read(paths.initiative_file, Initiative)
    docs = {}
    parsed = {}
    for key, model in (("indicators", IndicatorCatalogue), ("dimensions", Dimensions),
                       ("partners", PartnerList), ("targets", TargetList)):
        docs[key], parsed[key] = read(paths.registry_dir / REGISTRY_FILES[key], model)

    mappings: list[Mapping] = []
    mapping_docs: list[YamlDocument] = []
    mapping_files: dict[str, Path] = {}
    if paths.mappings_dir.is_dir():
        for path in sorted(paths.mappings_dir.glob("*.y*ml")):
            document, mapping = read(path, Mapping)
            if mapping is None:
                continue
            if mapping.name in mapping_files:
                problems.append(document.describe(("name",), f"mapping name {mapping.name!r} is "
                                                  f"also used by {mapping_files[mapping.name]}"))
                continue
            mappings.append(mapping)
            mapping_docs.append(document)
            mapping_files[mapping.name] = path

    if problems:
        raise RegistryError(problems)

    registry = Registry(
        initiative=initiative,
        catalogue=parsed["indicators"],
        dimensions=parsed["dimensions"],
        partners=parsed["partners"].partners,
        targets=parsed["targets"].targets,
        mappings=mappings,
        mapping_files=mapping_files,
    )
    problems = _cross_check(registry, docs, mapping_docs)
    if problems:
        raise RegistryError(problems)
    return registry


def _cross_check(registry: Registry, docs: dict[str, YamlDocument],
                 mapping_docs: list[YamlDocument]) -> list[str]:
    """Every code used in one file must be defined in another."""
    problems = [*_check_places(registry, docs["dimensions"]),
                *_check_indicators(registry, docs["indicators"]),
                *_check_relations(registry, docs["indicators"]),
                *_check_partners(registry, docs["partners"]),
                *_check_periods(registry, docs),
                *_check_targets(registry, docs["targets"])]
    for document, mapping in zip(mapping_docs, registry.mappings, strict=True):
        problems.extend(_check_mapping(document, mapping, registry))
    return problems


def _check_places(registry: Registry, dimensions_doc: YamlDocument) -> list[str]:
    """The hierarchy: known parents, no cycle, each place at one level; a text names one
    place (the whole area's aliases included)."""
    problems = [dimensions_doc.describe(("places", n, part), message)
                for n, part, message in registry.place_tree.problems]
    owner: dict[str, str] = {}
    texts = [(("whole_area",), WHOLE_AREA, text)
             for text in [registry.dimensions.whole_area.name,
                          *registry.dimensions.whole_area.aliases]]
    texts += [(("places", n), p.code, text) for n, p in enumerate(registry.dimensions.places)
              for text in [p.code, p.name, *p.aliases]]
    for where, code, text in texts:
        key = normalise(text)
        if owner.get(key, code) != code:
            problems.append(dimensions_doc.describe(where, f"{text!r} names both "
                                                    f"{owner[key]!r} and {code!r}"))
        owner.setdefault(key, code)
    return problems


def _check_indicators(registry: Registry, catalogue_doc: YamlDocument) -> list[str]:
    problems: list[str] = []
    units = {u.code: u for u in registry.catalogue.units}
    groups = {w.code for w in registry.catalogue.working_groups}
    indicators = registry.indicators
    dimensions = {d.code for d in registry.dimensions.disaggregations}
    for n, indicator in enumerate(registry.catalogue.indicators):
        at = ("indicators", n)
        if indicator.unit not in units:
            problems.append(catalogue_doc.describe((*at, "unit"), f"unit {indicator.unit!r} is not "
                            f"in units (known: {', '.join(units)})"))
        if indicator.working_group not in groups:
            problems.append(catalogue_doc.describe((*at, "working_group"), "working group "
                            f"{indicator.working_group!r} is not in working_groups"))
        for k, code in enumerate(indicator.disaggregations):
            if code != "place" and code not in dimensions:
                problems.append(catalogue_doc.describe((*at, "disaggregations", k),
                                f"{code!r} is neither 'place' nor a disaggregation in "
                                "dimensions.yaml"))
        for part in ("numerator", "denominator"):
            code = getattr(indicator, part)
            if code is None:
                continue
            other = indicators.get(code)
            if other is None:
                problems.append(catalogue_doc.describe((*at, part), f"{code!r} is not an indicator"))
            elif other.aggregation is Aggregation.RATIO:
                problems.append(catalogue_doc.describe((*at, part),
                                f"{code!r} is itself a ratio; use reported indicators"))
    return problems


def _check_relations(registry: Registry, catalogue_doc: YamlDocument) -> list[str]:
    problems: list[str] = []
    indicators = registry.indicators
    for n, relation in enumerate(registry.catalogue.relations):
        for side in ("a", "b"):
            code = getattr(relation, side)
            if code not in indicators:
                problems.append(catalogue_doc.describe(("relations", n, side),
                                                       f"{code!r} is not an indicator"))
            elif indicators[code].aggregation is Aggregation.RATIO:
                problems.append(catalogue_doc.describe(("relations", n, side), f"{code!r} is a "
                                "ratio; relate reported indicators"))
    return problems


def _check_partners(registry: Registry, partner_doc: YamlDocument) -> list[str]:
    """A name means one partner, a unit's name one unit; a partner's indicators exist."""
    problems: list[str] = []
    alias_owner: dict[str, str] = {}
    for n, partner in enumerate(registry.partners):
        for name in [partner.name, *partner.aliases]:
            key = normalise(name)
            if alias_owner.get(key, partner.code) != partner.code:
                problems.append(partner_doc.describe(("partners", n, "aliases"), f"name {name!r} "
                                f"is also a name of partner {alias_owner[key]!r}"))
            alias_owner[key] = partner.code
        unit_names: dict[str, str] = {}
        for k, unit in enumerate(partner.reporting_units):
            for name in [unit.code, unit.name, *unit.aliases]:
                key = normalise(name)
                if unit_names.get(key, unit.code) != unit.code:
                    problems.append(partner_doc.describe(
                        ("partners", n, "reporting_units", k), f"name {name!r} is also a name "
                        f"of reporting unit {unit_names[key]!r}"))
                unit_names[key] = unit.code
        for k, code in enumerate(partner.indicators):
            if code not in registry.indicators:
                problems.append(partner_doc.describe(("partners", n, "indicators", k),
                                                     f"{code!r} is not an indicator"))
    return problems


def _check_periods(registry: Registry, docs: dict[str, YamlDocument]) -> list[str]:
    """Every period written in the definitions is of the initiative's period type."""
    problems: list[str] = []
    period_type = registry.initiative.period_type.value
    for n, target in enumerate(registry.targets):
        for label, point in [("baseline", target.baseline), ("target", target.target),
                             *((f"milestones[{k}]", m) for k, m in enumerate(target.milestones))]:
            if period_type_of(point.period) != period_type:
                where = ("targets", n, *(label.replace("]", "").split("[")))
                where = tuple(int(p) if str(p).isdigit() else p for p in where)
                problems.append(docs["targets"].describe(
                    (*where, "period"), f"{point.period!r} is not a {period_type} period "
                    f"(the initiative reports by {period_type})"))
    start = registry.initiative.reporting_start
    if start and period_type_of(start) != period_type:
        problems.append(f"initiative.yaml: reporting_start {start!r} is "
                        f"not a {period_type} period")
    for n, partner in enumerate(registry.partners):
        if period_type == "month" and partner.cadence is Cadence.WEEKLY:
            problems.append(docs["partners"].describe(
                ("partners", n, "cadence"), "weekly reports need a weekly initiative "
                "(period_type: week)"))
        for field_name in ("reports_from", "reports_until"):
            value = getattr(partner, field_name)
            if value and period_type_of(value) != period_type:
                problems.append(docs["partners"].describe(
                    ("partners", n, field_name), f"{value!r} is not a {period_type} period"))
    return problems


def _check_targets(registry: Registry, target_doc: YamlDocument) -> list[str]:
    problems: list[str] = []
    indicators = registry.indicators
    seen_targets: set[tuple[str, str]] = set()
    for n, target in enumerate(registry.targets):
        if target.indicator not in indicators:
            problems.append(target_doc.describe(("targets", n, "indicator"),
                                                f"{target.indicator!r} is not an indicator"))
        elif indicators[target.indicator].direction is Direction.NEUTRAL:
            problems.append(target_doc.describe(("targets", n, "indicator"),
                            f"{target.indicator!r} has direction neutral; a target needs "
                            "higher_is_better or lower_is_better"))
        place = registry.place_code(target.place)
        if place is None:
            problems.append(target_doc.describe(("targets", n, "place"),
                            f"{target.place!r} is not a place (or '{WHOLE_AREA}')"))
        key = (target.indicator, place or target.place)
        if key in seen_targets:
            problems.append(target_doc.describe(("targets", n), f"a target for {key[0]} at "
                                                f"{key[1]} is already defined"))
        seen_targets.add(key)
    return problems


def _check_mapping(document: YamlDocument, mapping: Mapping, registry: Registry) -> list[str]:
    """A mapping's folders, columns, codes, units and files against the registry."""
    dimensions = {d.code: d for d in registry.dimensions.disaggregations}
    known_codes = {
        "indicator": set(registry.indicators),
        "place": {WHOLE_AREA, *(p.code for p in registry.dimensions.places)},
        "partner": set(registry.partner_by_code),
        **{code: {c.code for c in d.categories} for code, d in dimensions.items()},
    }
    return [*_check_mapping_columns(document, mapping, registry, dimensions),
            *_check_mapping_codes(document, mapping, known_codes),
            *_check_mapping_settings(document, mapping, registry, dimensions)]


def _check_mapping_columns(document: YamlDocument, mapping: Mapping, registry: Registry,
                           dimensions: dict) -> list[str]:
    """Folders name partners; value columns name reported indicators; breakdowns exist."""
    problems = []
    indicators = registry.indicators
    for k, folder in enumerate(mapping.applies_to.folders):
        if mapping.partner.from_folder and folder not in registry.partner_by_code:
            problems.append(document.describe(("applies_to", "folders", k), f"folder {folder!r} "
                            "is not a partner code; name the partner column in partner.column"))
    used_dimensions = set(mapping.columns.disaggregations)
    for n, value_column in enumerate(mapping.values):
        if value_column.indicator is None:
            used_dimensions |= set(value_column.disaggregation)
            continue
        indicator = indicators.get(value_column.indicator)
        if indicator is None:
            problems.append(document.describe(("values", n, "indicator"),
                                              f"{value_column.indicator!r} is not an indicator"))
        elif indicator.aggregation is Aggregation.RATIO:
            problems.append(document.describe(("values", n, "indicator"), f"{indicator.code!r} is "
                            "a ratio; map its numerator and denominator instead"))
        used_dimensions |= set(value_column.disaggregation)
    for combo in mapping.combos.values():
        used_dimensions |= set(combo)
    for dimension in sorted(used_dimensions):
        if dimension not in dimensions:
            problems.append(document.describe(("columns", "disaggregations"),
                            f"{dimension!r} is not a disaggregation in dimensions.yaml"))
    return problems


def _check_mapping_codes(document: YamlDocument, mapping: Mapping,
                         known_codes: dict[str, set[str]]) -> list[str]:
    """Every code a mapping writes (codes, combos, a value column's categories) exists."""
    problems = []
    for role, codes in mapping.codes.items():
        if role not in known_codes:
            problems.append(document.describe(("codes", role), f"{role!r} is not a role "
                            "(indicator, place, partner) or a disaggregation"))
            continue
        known = known_codes[role]
        folded = {c.lower() for c in known} if role == "place" else known
        for text, code in codes.items():
            if (code.lower() if role == "place" else code) not in folded:
                shown = sorted(known)
                problems.append(document.describe(("codes", role, text), f"{code!r} is not a "
                                f"{role} code (known: {', '.join(shown[:20])}"
                                f"{f' and {len(shown) - 20} more' if len(shown) > 20 else ''})"))
    for combo, parts in mapping.combos.items():
        for dimension, code in parts.items():
            if dimension in known_codes and code not in known_codes[dimension]:
                problems.append(document.describe(("combos", combo, dimension), f"{code!r} is "
                                f"not a {dimension} category"))
    for n, value_column in enumerate(mapping.values):
        for dimension, code in value_column.disaggregation.items():
            if dimension in known_codes and code not in known_codes[dimension]:
                problems.append(document.describe(("values", n, "disaggregation", dimension),
                                                  f"{code!r} is not a {dimension} category"))
    return problems


def _check_mapping_settings(document: YamlDocument, mapping: Mapping, registry: Registry,
                            dimensions: dict) -> list[str]:
    """Unit conversions, metadata files, id resolution, period formats and fixed values."""
    problems = []
    indicators = registry.indicators
    units = {u.code: u for u in registry.catalogue.units}
    for code, partner_unit in mapping.units.items():
        indicator = indicators.get(code)
        if indicator is None:
            problems.append(document.describe(("units", code), f"{code!r} is not an indicator"))
            continue
        unit = units.get(indicator.unit)
        if partner_unit != indicator.unit and (unit is None or partner_unit not in unit.conversions):
            problems.append(document.describe(("units", code), f"no conversion from "
                            f"{partner_unit!r} to {indicator.unit!r} in the registry's units"))
    for source, relative in mapping.metadata_files.items():
        if not (registry_dir_of(document) / relative).is_file():
            problems.append(document.describe(("metadata_files", source.value),
                            f"{relative!r} was not found in the initiative folder"))
    for role in mapping.resolve_ids:
        if role not in {"indicator", "place", "partner", "combo"} and role not in dimensions:
            problems.append(document.describe(("resolve_ids", role), f"{role!r} is not a role "
                            "(indicator, place, partner, combo) or a disaggregation"))
    period_type = registry.initiative.period_type.value
    for k, fmt in enumerate(mapping.period_formats or []):
        problem = format_problem(fmt, period_type, mapping.period_default_year)
        if problem:
            problems.append(document.describe(("period_formats", k), problem))
    if mapping.layout is Layout.LONG and "indicator" in mapping.fixed:
        if mapping.fixed["indicator"] not in indicators:
            problems.append(document.describe(("fixed", "indicator"),
                            f"{mapping.fixed['indicator']!r} is not an indicator"))
    return problems


def registry_dir_of(document: YamlDocument) -> Path:
    """The initiative folder a mapping file belongs to (mappings/ is one level below it)."""
    return document.path.parent.parent


def normalise(text: str) -> str:
    """How names are compared: case, accents and surrounding spaces do not matter.

    The SQL twin is the ``normalise_text`` macro in dbt_project/macros (rendered for Python's
    SQL by murmuration.sqltext).
    """
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.lower().split())
