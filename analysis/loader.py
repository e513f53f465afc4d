"""``analysis.load(path)``: the frames of an episode, run or sweep directory, as LazyFrames."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from analysis.cache import load_cache, save_cache
from analysis.discover import Discovery, Listing, discover, list_episodes
from analysis.errors import AnalysisError
from analysis.frames import build_frames
from analysis.memo import Memo


@dataclass(frozen=True)
class RunData:
    """The logs under one path, as polars LazyFrames (see METRICS.md for every column)."""

    root: Path
    """The directory that was loaded."""
    episodes: pl.LazyFrame
    """One row per complete episode: manifest fields, outcome, flattened spec, sweep factors."""
    players: pl.LazyFrame
    """One row per seat: initial and final role, policy, model, label."""
    events: pl.LazyFrame
    """One row per event, every kind in one schema."""
    claims: pl.LazyFrame
    """One row per structured claim of a speech (accuse, defend, claim_role)."""
    beliefs: pl.LazyFrame
    """One row per reported P(traitor): observer, target, p."""
    catalogue: pl.LazyFrame
    """One row per catalogue item of a principal-agent case: utilities, preferred, budget."""
    calls: pl.LazyFrame
    """One row per LLM call: model, tokens, cost, latency."""
    incomplete: int
    """Episode directories skipped because they are not complete."""
    duplicates: int
    """Complete episodes skipped because their episode_id appeared in another directory."""
    cached: bool
    """Whether the frames came from the ``--compact`` Parquet cache."""
    memo: Memo = field(default_factory=Memo, compare=False, repr=False)
    """Item tables several metric groups share, computed once (see ``analysis.tables``)."""


def load(path: str | Path) -> RunData:
    """Load every complete episode under ``path`` (reusing an up-to-date Parquet cache)."""
    listing = list_episodes(path)
    cached = load_cache(listing)
    if cached is None:
        discovery = _discover_episodes(listing)
        frames = {k: v.lazy() for k, v in build_frames(discovery).items()}
        skipped = (discovery.incomplete, discovery.duplicates)
    else:
        frames, skipped = cached.frames, (cached.incomplete, cached.duplicates)
    return RunData(
        root=listing.root,
        episodes=frames["episodes"],
        players=frames["players"],
        events=frames["events"],
        claims=frames["claims"],
        beliefs=frames["beliefs"],
        catalogue=frames["catalogue"],
        calls=frames["calls"],
        incomplete=skipped[0],
        duplicates=skipped[1],
        cached=cached is not None,
    )


def compact(path: str | Path) -> Path:
    """Write the frames of ``path`` as Parquet into ``path/.compact``; return that directory."""
    discovery = _discover_episodes(list_episodes(path))
    return save_cache(discovery, build_frames(discovery))


def _discover_episodes(listing: Listing) -> Discovery:
    discovery = discover(listing)
    if not discovery.complete:
        raise AnalysisError(
            f"{listing.root}: no complete episodes ({discovery.incomplete} incomplete skipped)"
        )
    return discovery
