"""Tables to the terminal (rich), to CSV and to JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.summary import Table

TURN_AT_MOST_ROWS = 6
"""Tables with more rows are never turned."""
WRAP_AT = 40
"""Text longer than this wraps when a table is split to fit the console."""


def cell(value: Any) -> str:
    """A value as shown in a terminal or HTML table: floats to 3 decimals, null as a dash."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def print_tables(tables: Sequence[Table], console: Any) -> None:
    """Print every table with rich on ``console``; a table with fewer rows than values is
    turned, so that its groups become columns. A table wider than the console is printed in
    parts of the columns that fit, each repeating the row keys, so no header is cut."""
    from rich.table import Table as RichTable

    for table in tables:
        columns, fixed = _columns(table)
        parts = _parts(columns, fixed, console.width)
        for number, part in enumerate(parts, 1):
            title = table.title if len(parts) == 1 else f"{table.title} ({number}/{len(parts)})"
            shown = RichTable(title=title, title_justify="left")
            for column in part:
                shown.add_column(column.header, justify="right" if column.numeric else "left")
            for row in zip(*(column.cells for column in part), strict=True):
                shown.add_row(*row)
            console.print(shown)


@dataclass(frozen=True)
class Column:
    """One column as printed: its header, its cells, and whether to align it right."""

    header: str
    cells: list[str]
    numeric: bool

    @property
    def width(self) -> int:
        """The characters it takes, borders and padding included: its widest cell up to
        ``WRAP_AT`` (longer text wraps), never less than its longest word."""
        words = [self.header, *(word for text in self.cells for word in text.split())]
        widest = max(len(text) for text in (self.header, *self.cells))
        return max(min(widest, WRAP_AT), *map(len, words)) + 3


def _columns(table: Table) -> tuple[list[Column], int]:
    """The printed columns of ``table``, the row keys first, and how many are keys."""
    frame = table.frame
    values = [c for c in frame.columns if c not in table.keys]
    if len(values) > frame.height and frame.height <= TURN_AT_MOST_ROWS:
        groups = frame.select(table.keys).iter_rows() if table.keys else [("all",)] * frame.height
        columns = [Column(", ".join(table.keys), values, False)]
        columns += [
            Column(", ".join(map(cell, group)), [cell(frame[v][i]) for v in values], True)
            for i, group in enumerate(groups)
        ]
        return columns, 1
    keys = [c for c in frame.columns if c in table.keys]
    return [
        Column(name, [cell(v) for v in frame.get_column(name)], frame.schema[name].is_numeric())
        for name in (*keys, *values)
    ], len(keys)


def _parts(columns: list[Column], fixed: int, width: int) -> list[list[Column]]:
    """The columns in parts no wider than ``width``, each led by the ``fixed`` key columns
    (a part holds at least one other column, however wide)."""
    keys, rest = columns[:fixed], columns[fixed:]
    if not rest:
        return [keys]
    parts: list[list[Column]] = []
    for column in rest:
        if parts and 1 + sum(c.width for c in parts[-1]) + column.width <= width:
            parts[-1].append(column)
        else:
            parts.append([*keys, column])
    return parts


def to_csv(tables: Sequence[Table]) -> str:
    """Every table as CSV, each after a ``# name`` line, separated by a blank line."""
    return "\n".join(f"# {t.name}\n{t.frame.write_csv()}" for t in tables)


def to_json(tables: Sequence[Table]) -> str:
    """One JSON object: table name -> list of rows."""
    return json.dumps({t.name: t.frame.to_dicts() for t in tables}, indent=2, default=str)


def write_csv_files(tables: Sequence[Table], directory: Path) -> list[Path]:
    """Write ``<name>.csv`` for every table into ``directory``."""
    paths = []
    for table in tables:
        path = directory / f"{table.name}.csv"
        table.frame.write_csv(path)
        paths.append(path)
    return paths
