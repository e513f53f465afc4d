"""``traitors dataset``: read runs, build their statements and write them in the Hugging Face
``datasets`` layout (``data/<split>-00000-of-00001.parquet`` and a ``README.md`` card).

Each run is read on its own; a path that is no run or episode directory, or a damaged log,
costs one line and leaves the others to be read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from analysis.dataset import SPLITS, statements
from analysis.dataset_card import card
from analysis.errors import AnalysisError
from analysis.loader import RunData, load

CARD = "README.md"
DATA_DIR = "data"


@dataclass(frozen=True)
class Export:
    """What an export read and wrote."""

    rows: pl.DataFrame
    """Every statement exported (empty when nothing could be read)."""
    notes: tuple[str, ...]
    """One line per thing worth saying: each run read, each input or episode left out."""
    files: tuple[Path, ...]
    """The files written (none when there was nothing to export)."""


def export(
    paths: Sequence[Path],
    out: Path,
    inline_context: bool = False,
    include_degraded: bool = False,
) -> Export:
    """Export the statements of the episodes under ``paths`` into ``out``."""
    frames: list[pl.DataFrame] = []
    notes: list[str] = []
    sources: list[str] = []
    seen: set[str] = set()
    for path in paths:
        try:
            data = load(path, include_degraded=include_degraded)
            rows = statements(data)
        except AnalysisError as exc:
            notes.append(f"{path}: left out: {_strip(exc, path)}")
            continue
        repeated = rows.filter(pl.col("episode").is_in(list(seen)))["episode"].n_unique()
        rows = rows.filter(~pl.col("episode").is_in(list(seen)))
        if inline_context:
            from analysis.dataset_context import with_context

            rows = with_context(rows, data)
        seen.update(rows["episode"].unique().to_list())
        frames.append(rows)
        source, run_notes = _describe(path, data, rows, repeated)
        sources.append(source)
        notes += [source, *run_notes]
    if not frames or not sum(f.height for f in frames):
        notes.append("nothing to export: no statements were read")
        return Export(pl.DataFrame(), tuple(notes), ())
    rows = pl.concat(frames, how="diagonal_relaxed")
    return Export(rows, tuple(notes), write(rows, out, sources))


def write(rows: pl.DataFrame, out: Path, sources: Sequence[str]) -> tuple[Path, ...]:
    """Write ``rows`` as one Parquet file per split under ``out/data`` and the card."""
    data_dir = out / DATA_DIR
    data_dir.mkdir(parents=True, exist_ok=True)
    for stale in data_dir.glob("*-of-*.parquet"):
        stale.unlink()
    files = []
    splits = []
    for name, _ in SPLITS:
        part = rows.filter(pl.col("split") == name)
        if part.height:
            path = data_dir / f"{name}-00000-of-00001.parquet"
            part.write_parquet(path)
            files.append(path)
            splits.append(name)
    (out / CARD).write_text(card(rows, splits, sources))
    return (*files, out / CARD)


def _describe(
    path: Path, data: RunData, rows: pl.DataFrame, repeated: int
) -> tuple[str, list[str]]:
    """The line naming what was read from ``path``, and the lines about what was not."""
    episodes = rows["episode"].n_unique() if rows.height else 0
    source = f"{path}: {episodes} episodes, {rows.height} statements"
    notes = [f"{directory}: left out: a log is damaged" for directory in data.damaged]
    left = [
        (data.degraded, "degraded (--include-degraded takes them)"),
        (data.failed, "failed"),
        (data.incomplete, "unfinished"),
        (data.duplicates + repeated, "read twice (kept once)"),
    ]
    notes += [f"{path}: {n} episode(s) left out: {why}" for n, why in left if n]
    if not data.beliefs.select(pl.len()).collect().item():
        notes.append(
            f"{path}: no belief probes in its episodes: accusations and defences are labelled "
            "unknown (role claims are judged against the speaker's own role)"
        )
    return source, notes


def _strip(exc: AnalysisError, path: Path) -> str:
    """The error's message without the path it starts with (the line names it already)."""
    message = str(exc)
    prefix = f"{path}: "
    return message[len(prefix) :] if message.startswith(prefix) else message
