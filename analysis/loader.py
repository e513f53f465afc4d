"""``analysis.load(path)``: the frames of an episode, run or sweep directory, as LazyFrames.

Only complete episodes are read by default: a degraded one (model calls failed or actions
were replaced by defaults beyond the spec's limits) was not played as specified, so it is
left out and counted unless ``include_degraded``; failed and unfinished ones never count.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from analysis.cache import load_cache, save_cache
from analysis.discover import Discovery, Listing, discover, list_episodes
from analysis.errors import AnalysisError, no_complete_episodes
from analysis.frames import FRAME_NAMES, build_frames
from analysis.memo import Memo


@dataclass(frozen=True)
class RunData:
    """The logs under one path, as polars LazyFrames (see METRICS.md for every column)."""

    root: Path
    """The directory that was loaded."""
    episodes: pl.LazyFrame
    """One row per episode read: status, manifest fields, outcome, the scenario's factions,
    flattened spec, sweep factors."""
    players: pl.LazyFrame
    """One row per seat: initial role and its faction (``hidden``: on the deceiving side),
    final role, policy, model, label."""
    roles: pl.LazyFrame
    """One row per (episode, role its scenario's words declare): faction, hidden."""
    events: pl.LazyFrame
    """One row per event, every kind in one schema (the god-only ``act`` records left out)."""
    claims: pl.LazyFrame
    """One row per structured claim of a speech (accuse, defend, claim_role)."""
    beliefs: pl.LazyFrame
    """One row per reported P(target is on the hidden side): observer, target, p."""
    calls: pl.LazyFrame
    """One row per LLM call: model, tokens, cost, latency."""
    incomplete: int
    """Episode directories left out because they did not finish (no final manifest)."""
    duplicates: int
    """Played episodes left out because their episode_id was read from another directory."""
    cached: bool
    """Whether the frames came from the ``--compact`` Parquet cache."""
    degraded: int = 0
    """Degraded episodes left out (0 with ``include_degraded``)."""
    failed: int = 0
    """Episode directories left out because the episode raised (manifest ``failed``)."""
    damaged: tuple[str, ...] = ()
    """The episodes left out because a file of theirs is damaged: their directories, or the
    file (an unreadable shard or manifest)."""
    include_degraded: bool = False
    """Whether degraded episodes were read (``status`` tells them apart)."""
    extra: Mapping[str, pl.LazyFrame] = field(default_factory=dict)
    """The frames the games' plug-ins add, by name (see :meth:`frame`)."""
    memo: Memo = field(default_factory=Memo, compare=False, repr=False)
    """Item tables several metric groups share, computed once (see ``analysis.tables``)."""

    def frame(self, name: str) -> pl.LazyFrame:
        """A frame by name: one of :data:`FRAME_NAMES`, or one a game's plug-in adds."""
        if name in FRAME_NAMES:
            frame: pl.LazyFrame = getattr(self, name)
            return frame
        if name not in self.extra:
            known = ", ".join([*FRAME_NAMES, *self.extra])
            raise AnalysisError(f"no frame {name!r} was loaded (frames: {known})")
        return self.extra[name]

    @property
    def left_out(self) -> int:
        """Episode directories not read, for any reason."""
        return self.degraded + self.failed + self.incomplete + self.duplicates + len(self.damaged)


def load(path: str | Path, include_degraded: bool = False) -> RunData:
    """Load the complete episodes under ``path`` (and the degraded ones with
    ``include_degraded``), reusing an up-to-date Parquet cache."""
    listing = list_episodes(path)
    cached = load_cache(listing)
    if cached is None:
        with _collector_paused():
            discovery = _discover_episodes(listing, include_degraded)
            built, damaged = build_frames(discovery, include_degraded)
        frames = {k: v.lazy() for k, v in built.items()}
        degraded = len(discovery.played) - len(discovery.select(include_degraded))
        counts = (discovery.incomplete, discovery.failed, discovery.duplicates)
    else:
        frames, degraded, damaged = cached.frames, 0, cached.damaged
        counts = (cached.incomplete, cached.failed, cached.duplicates)
        if not include_degraded:
            frames, degraded = _complete_only(frames)
            if degraded and not frames["episodes"].select(pl.len()).collect().item():
                raise no_complete_episodes(
                    listing.root, degraded, counts[1], counts[0], cached.damaged
                )
    return RunData(
        root=listing.root,
        episodes=frames["episodes"],
        players=frames["players"],
        roles=frames["roles"],
        events=frames["events"],
        claims=frames["claims"],
        beliefs=frames["beliefs"],
        calls=frames["calls"],
        incomplete=counts[0],
        failed=counts[1],
        duplicates=counts[2],
        degraded=degraded,
        damaged=damaged,
        include_degraded=include_degraded,
        cached=cached is not None,
        extra={name: frame for name, frame in frames.items() if name not in FRAME_NAMES},
    )


def compact(path: str | Path) -> Path:
    """Write the frames of ``path`` as Parquet into ``path/.compact``; return that directory.

    The cache holds the complete and the degraded episodes; each load picks from it.
    """
    with _collector_paused():
        discovery = _discover_episodes(list_episodes(path), include_degraded=True)
        built = build_frames(discovery, include_degraded=True)
    return save_cache(discovery, *built)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off: the parsed manifests are many containers without cycles,
    which its full passes would walk again and again as they pile up."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _complete_only(frames: dict[str, pl.LazyFrame]) -> tuple[dict[str, pl.LazyFrame], int]:
    """The frames without their degraded episodes, and how many there were."""
    status = frames["episodes"].select("episode_id", "status").collect()
    degraded = status.filter(pl.col("status") != "complete")["episode_id"]
    if degraded.is_empty():
        return frames, 0
    keep = ~pl.col("episode_id").cast(pl.String()).is_in(degraded.cast(pl.String()).to_list())
    names = list(frames)
    filtered = pl.collect_all([frames[name].filter(keep) for name in names])
    return {n: f.lazy() for n, f in zip(names, filtered, strict=True)}, degraded.len()


def _discover_episodes(listing: Listing, include_degraded: bool) -> Discovery:
    discovery = discover(listing)
    if not discovery.select(include_degraded):
        degraded = len(discovery.played)
        raise no_complete_episodes(
            listing.root,
            degraded,
            discovery.failed,
            discovery.incomplete,
            [str(path) for path in discovery.damaged],
        )
    return discovery
