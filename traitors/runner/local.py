"""Run episodes in this process, one directory per episode, skipping complete ones."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from traitors.engine import run_episode
from traitors.log import EpisodeWriter, is_complete, read_episode
from traitors.spec import ScenarioSpec, episode_id


@dataclass(frozen=True)
class EpisodeSummary:
    """One finished episode as the CLI reports it."""

    episode_id: str
    seed: int
    dir: Path
    manifest: dict[str, Any]
    skipped: bool
    """True if the episode was already complete on disk and not run again."""


def run_episodes(
    spec: ScenarioSpec,
    seeds: Iterable[int],
    out_dir: Path,
    on_done: Callable[[EpisodeSummary], None] | None = None,
) -> list[EpisodeSummary]:
    """Run one episode per seed into ``out_dir/<episode_id>/``; complete ones are kept."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summaries = []
    for seed in seeds:
        eid = episode_id(spec, seed)
        directory = out_dir / eid
        if is_complete(directory):
            summary = EpisodeSummary(eid, seed, directory, read_episode(directory).manifest, True)
        else:
            result = asyncio.run(run_episode(spec, seed, writer=EpisodeWriter(directory)))
            summary = EpisodeSummary(eid, seed, directory, result.manifest, False)
        summaries.append(summary)
        if on_done is not None:
            on_done(summary)
    return summaries
