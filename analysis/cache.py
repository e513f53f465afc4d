"""The Parquet cache written by ``traitors analyze --compact``, reused while it is up to date.

It lives in ``<root>/.compact/``: one Parquet file per frame and ``state.json`` holding the
fingerprint (every manifest's and sweep file's path, mtime and size) it was built from.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from analysis.discover import Discovery
from analysis.frames import FRAME_NAMES
from traitors.log import write_json_atomic

CACHE_DIR = ".compact"
STATE_FILE = "state.json"
CACHE_FORMAT = 2
"""Bump when the frames' schema changes, so older caches are rebuilt."""


def cache_dir(discovery: Discovery) -> Path:
    """Where the cache of ``discovery.root`` lives."""
    return discovery.root / CACHE_DIR


def save_cache(discovery: Discovery, frames: dict[str, pl.DataFrame]) -> Path:
    """Write every frame as Parquet, then the state file (last, so a crash leaves no cache)."""
    directory = cache_dir(discovery)
    directory.mkdir(exist_ok=True)
    (directory / STATE_FILE).unlink(missing_ok=True)
    for name in FRAME_NAMES:
        frames[name].write_parquet(directory / f"{name}.parquet")
    write_json_atomic(directory / STATE_FILE, _state(discovery))
    return directory


def load_cache(discovery: Discovery) -> dict[str, pl.LazyFrame] | None:
    """The cached frames, or None when there is no cache or the logs changed since."""
    directory = cache_dir(discovery)
    try:
        state = json.loads((directory / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    if state != _state(discovery):
        return None
    return {name: pl.scan_parquet(directory / f"{name}.parquet") for name in FRAME_NAMES}


def _state(discovery: Discovery) -> dict[str, object]:
    # Through JSON once, so tuples compare equal to the lists read back.
    fingerprint = json.loads(json.dumps(discovery.fingerprint))
    return {"format": CACHE_FORMAT, "fingerprint": fingerprint}
