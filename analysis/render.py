"""Tables to the terminal (rich), to CSV and to JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from analysis.summary import Table

TURN_AT_MOST_ROWS = 6
"""Tables with more rows are never turned."""


def cell(value: Any) -> str:
    """A value as shown in a terminal or HTML table: floats to 3 decimals, null as a dash."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def print_tables(tables: Sequence[Table], console: Any) -> None:
    """Print every table with rich on ``console``; a table with fewer rows than values is
    turned, so that its groups become columns."""
    from rich.table import Table as RichTable

    for table in tables:
        frame = table.frame
        values = [c for c in frame.columns if c not in table.keys]
        turned = len(values) > frame.height and frame.height <= TURN_AT_MOST_ROWS
        if turned:
            keys = frame.select(table.keys).iter_rows() if table.keys else [("all",)] * frame.height
            header = [", ".join(table.keys), *(", ".join(map(cell, k)) for k in keys)]
            rows = [[name, *map(cell, frame.get_column(name).to_list())] for name in values]
            numeric = [False, *([True] * frame.height)]
        else:
            header = frame.columns
            rows = [[cell(v) for v in row] for row in frame.iter_rows()]
            numeric = [dtype.is_numeric() for dtype in frame.schema.values()]
        shown = RichTable(title=table.title, title_justify="left")
        for column, right in zip(header, numeric, strict=True):
            shown.add_column(column, justify="right" if right else "left")
        for row in rows:
            shown.add_row(*row)
        console.print(shown)


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
