"""The Parquet cache written by ``traitors analyze --compact``, reused while it is up to date.

It lives in ``<root>/.compact/``: one Parquet file per frame and ``state.json`` holding the
fingerprint (every manifest's and sweep file's path, mtime and size) it was built from, the
layout of its frames (the games' plug-ins add frames and ``events`` columns: a cache built
with other plug-ins is rebuilt), and the counts of the episodes it left out; a valid cache
is read without parsing any log or manifest. It holds the complete and the degraded
episodes (``episodes.status`` tells them apart): a load leaves the degraded ones out unless
asked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from analysis.discover import Discovery, Listing
from analysis.frames import GameFields
from traitors.store.log import write_json_atomic

CACHE_DIR = ".compact"
STATE_FILE = "state.json"
CACHE_FORMAT = 7
"""Bump when the frames' schema changes, so older caches are rebuilt."""


def save_cache(
    discovery: Discovery, frames: dict[str, pl.DataFrame], damaged: tuple[str, ...]
) -> Path:
    """Write every frame as Parquet, then the state file (last, so a crash leaves no cache)."""
    directory = discovery.listing.root / CACHE_DIR
    directory.mkdir(exist_ok=True)
    (directory / STATE_FILE).unlink(missing_ok=True)
    layout = GameFields.installed().layout()
    for name in layout["frames"]:
        # lz4 reads about twice as fast as the default zstd, for files a little larger.
        frames[name].write_parquet(directory / f"{name}.parquet", compression="lz4")
    state = {
        "format": CACHE_FORMAT,
        "fingerprint": _fingerprint(discovery.listing),
        "layout": layout,
        "incomplete": discovery.incomplete,
        "failed": discovery.failed,
        "duplicates": discovery.duplicates,
        "damaged": list(damaged),
    }
    write_json_atomic(directory / STATE_FILE, state)
    return directory


@dataclass(frozen=True)
class Cached:
    """Frames read back from the cache, with the counts of the episodes it left out."""

    frames: dict[str, pl.LazyFrame]
    """Every frame, degraded episodes included."""
    incomplete: int
    """Episode directories that did not finish."""
    failed: int
    """Episode directories whose episode raised."""
    duplicates: int
    """Played copies of an episode_id read from another directory."""
    damaged: tuple[str, ...]
    """Directories of the episodes whose logs are damaged."""


def load_cache(listing: Listing) -> Cached | None:
    """The cached frames, or None when there is no cache or the logs changed since."""
    directory = listing.root / CACHE_DIR
    try:
        state = json.loads((directory / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    if state.get("format") != CACHE_FORMAT or state.get("fingerprint") != _fingerprint(listing):
        return None
    layout = GameFields.installed().layout()
    if state.get("layout") != layout:
        return None
    # Read once (the metric groups query each frame many times), all files at once.
    names = layout["frames"]
    read = pl.collect_all([pl.scan_parquet(directory / f"{name}.parquet") for name in names])
    frames = {name: frame.lazy() for name, frame in zip(names, read, strict=True)}
    damaged = tuple(state["damaged"])
    return Cached(frames, state["incomplete"], state["failed"], state["duplicates"], damaged)


def _fingerprint(listing: Listing) -> object:
    # Through JSON once, so tuples compare equal to the lists read back.
    return json.loads(json.dumps(listing.fingerprint))
