"""The raw files of the loaded episodes (manifest, events.jsonl, calls.jsonl), loose or packed
in a shard: for the checks that need what the frames leave out (the god-only ``act``
records, the messages sent to the models)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.loader import RunData
from traitors.store.log import CALLS, EVENTS, MANIFEST
from traitors.store.shards import read_row, shard_index


@dataclass(frozen=True)
class EpisodeFiles:
    """One episode's logs, as written."""

    episode_id: str
    manifest: dict[str, Any]
    """``manifest.json``, parsed."""
    events: bytes
    """``events.jsonl``."""
    calls: bytes
    """``calls.jsonl`` (empty when no model was called)."""


def episode_files(
    data: RunData, statuses: tuple[str, ...] = ("complete",)
) -> Iterator[EpisodeFiles]:
    """The files of every loaded episode whose status is in ``statuses``, in the episodes'
    order: from its directory when its manifest is there, else from its run's shard."""
    rows = data.episodes.select("episode_id", "path", "status").collect()
    shards: dict[Path, dict[str, Path]] = {}
    for episode_id, path, status in rows.iter_rows():
        if status in statuses:
            files = read_episode_files(str(episode_id), Path(path), shards)
            if files is not None:
                yield files


def read_episode_files(
    episode_id: str, directory: Path, shards: dict[Path, dict[str, Path]]
) -> EpisodeFiles | None:
    """One episode's files, from ``directory`` when its manifest is there, else from its
    run's shard (None if no shard holds it); ``shards`` caches each run's shard index."""
    if (directory / MANIFEST).is_file():
        return _loose(episode_id, directory)
    run = directory.parent
    if run not in shards:
        shards[run] = shard_index(run)
    shard = shards[run].get(episode_id)
    if shard is None:
        return None
    row = read_row(shard, episode_id, ["manifest", "events", "calls"])
    return EpisodeFiles(
        episode_id,
        json.loads(row["manifest"]),
        (row["events"] or "").encode(),
        (row["calls"] or "").encode(),
    )


def _loose(episode_id: str, directory: Path) -> EpisodeFiles:
    calls = directory / CALLS
    return EpisodeFiles(
        episode_id,
        json.loads((directory / MANIFEST).read_bytes()),
        (directory / EVENTS).read_bytes(),
        calls.read_bytes() if calls.is_file() else b"",
    )
