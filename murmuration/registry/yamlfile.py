"""Read a human-edited YAML file and validate it, with errors that name the file, line and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)
Location = tuple[str | int, ...]


class RegistryError(Exception):
    """One or more problems in the initiative's definitions, each with file, line and field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def _line_index(node: yaml.Node, path: Location, index: dict[Location, int]) -> None:
    """Record the 1-based line of every mapping key and sequence item below ``node``."""
    index.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, key_node.value)
            index[child] = key_node.start_mark.line + 1
            _line_index(value_node, child, index)
    elif isinstance(node, yaml.SequenceNode):
        for position, item in enumerate(node.value):
            child = (*path, position)
            index[child] = item.start_mark.line + 1
            _line_index(item, child, index)


class YamlDocument:
    """The parsed content of one file plus where each field was written."""

    def __init__(self, path: Path):
        self.path = path
        text = path.read_text(encoding="utf-8")
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            self.data: Any = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f", line {mark.line + 1}" if mark else ""
            problem = getattr(error, "problem", None) or str(error)
            raise RegistryError([f"{path}{where}: not valid YAML ({problem})"]) from None
        self.lines: dict[Location, int] = {}
        if node is not None:
            _line_index(node, (), self.lines)

    def line_of(self, location: Location) -> int | None:
        """The line of the deepest part of ``location`` that was written in the file."""
        for end in range(len(location), -1, -1):
            line = self.lines.get(tuple(location[:end]))
            if line is not None:
                return line
        return None

    def describe(self, location: Location, message: str) -> str:
        line = self.line_of(location)
        where = f", line {line}" if line else ""
        return f"{self.path}{where}, {format_location(location) or '(top level)'}: {message}"

    def validate(self, model: type[Model]) -> Model:
        try:
            return model.model_validate(self.data if self.data is not None else {})
        except ValidationError as error:
            problems = []
            for item in error.errors():
                location = tuple(part for part in item["loc"] if not _is_union_tag(part))
                problems.append(self.describe(location, _plain_message(item)))
            raise RegistryError(problems) from None


def format_location(location: Location) -> str:
    """``('indicators', 2, 'valid_range')`` -> ``indicators[2].valid_range``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _is_union_tag(part: str | int) -> bool:
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))


def _plain_message(item: dict[str, Any]) -> str:
    kind = item["type"]
    if kind == "missing":
        return "this field is required"
    if kind == "extra_forbidden":
        return "unknown field (check the spelling against the documented fields)"
    message = item["msg"]
    return message.removeprefix("Value error, ")
