"""Reading YAML input safely: spec and sweep files, and ``--set`` values.

Whatever a file holds, reading it either gives plain data of bounded size or raises
``SpecError`` with one line naming the file (and the line, or the field) at fault:

- files over ``MAX_FILE_BYTES`` and files that are not UTF-8 text are refused unread;
- a mapping with a duplicate key is refused (YAML would silently keep the last one);
- aliases are allowed, but the data they expand to is bounded by ``MAX_NODES`` values,
  counted without expanding them (an alias bomb costs nothing to refuse);
- a string longer than ``MAX_STRING_CHARS`` is refused, naming its field.
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

MAX_FILE_BYTES = 1_000_000
"""Largest spec or sweep file read."""
MAX_NODES = 100_000
"""Most values (mappings, lists and scalars, aliases counted as often as they are used) a
spec or sweep may expand to."""
MAX_STRING_CHARS = 20_000
"""Longest string in a spec (a persona, a case brief...)."""


class SpecError(ValueError):
    """A spec is invalid; the message names the file and the field, on one line."""


def one_line(text: str) -> str:
    """``text`` with its line breaks and tabs folded into single spaces."""
    return " ".join(text.split())


class _UniqueKeyLoader(yaml.SafeLoader):
    """The safe loader, refusing a mapping that repeats a key."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Hashable, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {seen[key]})",
                    key_node.start_mark,
                )  # fmt: skip
            if isinstance(key, Hashable):
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str, source: str) -> Any:
    """The data in ``text``, checked for size; SpecError (one line) naming ``source``."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise SpecError(f"{source}: not valid YAML: {_yaml_problem(exc)}") from None
    check_size(data, source)
    return data


def read_mapping(path: Path) -> dict[str, Any]:
    """A YAML file's top-level mapping; SpecError names the file when it is not one."""
    if not path.is_file():
        raise SpecError(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SpecError(f"{path}: {size:,} bytes; spec files are limited to {MAX_FILE_BYTES:,}")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not a text file (not UTF-8)") from None
    raw = parse_yaml(text, str(path))
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: expected a mapping at the top level")
    return raw


def check_size(data: Any, source: str) -> None:
    """Raise SpecError if ``data`` expands to over MAX_NODES values or holds a string over
    MAX_STRING_CHARS; shared (aliased) parts are counted once per use, computed once."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()

    def size(value: Any, where: str) -> int:
        if isinstance(value, str) and len(value) > MAX_STRING_CHARS:
            raise SpecError(
                f"{source}: {where or '(top level)'}: a string of {len(value):,} characters; "
                f"strings are limited to {MAX_STRING_CHARS:,}"
            )
        if not isinstance(value, dict | list):
            return 1
        known = sizes.get(id(value))
        if known is not None:
            return known
        if id(value) in visiting:
            raise SpecError(f"{source}: {where}: contains itself (a recursive alias)")
        visiting.add(id(value))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        total = 1
        for key, child in items:
            total += size(child, f"{where}.{key}" if where else str(key))
            if total > MAX_NODES:
                raise SpecError(
                    f"{source}: {where or '(top level)'}: expands to over {MAX_NODES:,} values "
                    "(aliases count each time they are used)"
                )
        visiting.discard(id(value))
        sizes[id(value)] = total
        return total

    size(data, "")


def _yaml_problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc)
    mark = getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return one_line(f"{problem}{where}")
