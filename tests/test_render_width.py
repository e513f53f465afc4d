"""Terminal tables at 80 columns: a table too wide is printed in parts that repeat the row
keys, so every header is shown whole and distinct headers stay distinct."""

from __future__ import annotations

import io
import re

import polars as pl
from rich.console import Console

from analysis.render import print_tables
from analysis.summary import Table

RATINGS = ("deception", "detection", "overall")


def rendered(table: Table, width: int = 80) -> str:
    console = Console(file=io.StringIO(), width=width)
    print_tables([table], console)
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def headers(text: str) -> list[str]:
    """The header cells of every part (the lines between ┏ and ┡)."""
    found, inside = [], False
    for line in text.splitlines():
        inside = (inside or line.startswith("┏")) and not line.startswith("┡")
        if inside and line.startswith("┃"):
            found += [cell.strip() for cell in line.strip("┃").split("┃")]
    return found


def leaderboard(labels: int = 8) -> Table:
    columns: dict[str, list[object]] = {"label": [f"model-{i}" for i in range(labels)]}
    for rating in RATINGS:
        for suffix in ("", "_low", "_high"):
            columns[f"{rating}_bt{suffix}"] = [0.123456 * i for i in range(labels)]
    return Table("leaderboard", "Leaderboard", pl.DataFrame(columns), ("label",))


def test_a_wide_table_keeps_every_header_whole_and_distinct() -> None:
    table = leaderboard()
    text = rendered(table)
    assert "…" not in text
    assert max(map(len, text.splitlines())) <= 80
    shown = headers(text)
    values = [c for c in table.frame.columns if c != "label"]
    assert sorted(h for h in shown if h != "label") == sorted(values)  # each once, whole
    parts = shown.count("label")
    assert parts > 1 and f"Leaderboard (1/{parts})" in text
    assert text.count("model-7") == parts  # every part repeats the row keys


def test_long_text_wraps_inside_its_part() -> None:
    label = "drop 14: Frank: My money is on Heidi. Too quiet, too careful. " * 2
    frame = pl.DataFrame(
        {"rank": [1], "question": ["fa23d8d3"], "label": [label.strip()], "effect": [-0.75]}
        | {f"n_{i}": [i] for i in range(12)}
    )
    text = rendered(Table("causal", "Causal", frame, ("rank", "question")))
    assert "…" not in text and max(map(len, text.splitlines())) <= 80
    assert re.sub(r"[│\s]+", " ", text).count("Too quiet, too careful.") == 2


def test_a_table_that_fits_is_one_part() -> None:
    text = rendered(leaderboard(), width=400)
    assert headers(text) == leaderboard().frame.columns
    assert "(1/" not in text
