"""The HTML replays ``report.html`` links to: a bounded sample of the episodes it read.

The report cites episodes in its "Episodes" section (the first ``SAMPLE`` by id, with
winner, rounds and status) and wherever a table has an ``episode_id`` column. At most
``MAX_REPLAYS`` of them (the sample first, then the tables' in order) are exported as
god-view replays into ``<out>/replays/<episode_id>.html``, so the cost does not grow with
the run. Packed episodes are read from their shard; an episode that cannot be read or
exported is skipped and named in the report's note.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from analysis.episode_files import read_episode_files
from analysis.loader import RunData
from analysis.summary import Table
from traitors.game.events import Event
from traitors.store.log import EVENTS, parse_line
from traitors.store.manifest import Manifest

Render = Callable[[Manifest, list[Event]], str]
"""Makes one episode's HTML page (the analyze command passes the HTML replay's)."""
SAMPLE = 20
"""Episodes listed (and linked) in the report's Episodes section: the first by id."""
MAX_REPLAYS = 40
"""Replays exported at most, whatever the size of the run."""
REPLAY_DIR = "replays"
"""Subdirectory of the report's directory holding the replays."""


@dataclass(frozen=True)
class Replays:
    """Which episodes the report links to a replay, and its Episodes section."""

    links: dict[str, str]
    """Episode id -> the replay's path relative to the report."""
    sample: list[dict[str, Any]]
    """The Episodes section's rows: episode_id, status, winner, rounds."""
    total: int
    """Episodes the report read."""
    skipped: list[str] = field(default_factory=list)
    """One line per episode whose replay could not be written."""

    def note(self) -> str:
        """One line: how many episodes are linked, of how many, and which were skipped."""
        text = (
            f"{len(self.links)} of {self.total} episode(s) are linked to an HTML replay "
            f"(god view, in {REPLAY_DIR}/): the first {SAMPLE} by id and those the tables "
            f"cite, {MAX_REPLAYS} at most."
        )
        if self.skipped:
            named = "; ".join(self.skipped[:3]) + ("; ..." if len(self.skipped) > 3 else "")
            text += f" Skipped {len(self.skipped)}: {named}"
        return text


def export_replays(data: RunData, tables: Sequence[Table], out: Path, render: Render) -> Replays:
    """Export the replays of the cited episodes (at most ``MAX_REPLAYS``) into
    ``out/replays``, each page made by ``render``; never raises for an episode that cannot
    be read."""
    episodes = data.episodes.select(
        pl.col("episode_id").cast(pl.String()), "path", "status", "winner", "rounds"
    )
    total = int(episodes.select(pl.len()).collect().item())
    sample = episodes.sort("episode_id").head(SAMPLE).collect()
    wanted = list(dict.fromkeys([*sample["episode_id"], *_cited(tables)]))[:MAX_REPLAYS]
    paths = dict(
        episodes.filter(pl.col("episode_id").is_in(wanted))
        .select("episode_id", "path")
        .collect()
        .iter_rows()
    )
    directory = out / REPLAY_DIR
    directory.mkdir(parents=True, exist_ok=True)
    shards: dict[Path, dict[str, Path]] = {}
    links: dict[str, str] = {}
    skipped: list[str] = []
    for episode_id in (e for e in wanted if e in paths):
        try:
            manifest, events = _read(Path(paths[episode_id]), episode_id, shards)
            page = render(manifest, events)
            (directory / f"{episode_id}.html").write_bytes(page.encode())
        except (OSError, ValueError, LookupError) as exc:
            skipped.append(f"{episode_id}: {' '.join(str(exc).split())[:200]}")
        else:
            links[episode_id] = f"{REPLAY_DIR}/{episode_id}.html"
    rows = sample.select("episode_id", "status", "winner", "rounds").to_dicts()
    return Replays(links, rows, total, skipped)


def _cited(tables: Sequence[Table]) -> list[str]:
    """The episode ids of the tables' ``episode_id`` columns, in order (bounded)."""
    cited: list[str] = []
    for table in tables:
        if "episode_id" in table.frame.columns:
            column = table.frame.get_column("episode_id").cast(pl.String())
            cited += column.drop_nulls().unique(maintain_order=True).head(MAX_REPLAYS).to_list()
    return cited


def _read(
    directory: Path, episode_id: str, shards: dict[Path, dict[str, Path]]
) -> tuple[Manifest, list[Event]]:
    """The episode's manifest and events, from its directory or its run's shard."""
    files = read_episode_files(episode_id, directory, shards)
    if files is None:
        raise FileNotFoundError(f"{directory}: no such directory, and no shard holds it")
    lines = files.events.splitlines(keepends=True)
    source = directory / EVENTS
    events = [parse_line(line, source, n) for n, line in enumerate(lines, 1) if line.strip()]
    return Manifest.model_validate(files.manifest), events
