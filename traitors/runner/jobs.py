"""One unit of sweep work: run an episode into its directory and report how it went."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from traitors.log import is_complete, read_episode
from traitors.manifest import Manifest
from traitors.runner.episodes import run_one
from traitors.spec import ScenarioSpec, SweepEpisode

Status = Literal["complete", "failed", "skipped"]


@dataclass(frozen=True)
class Job:
    """An episode to run: its spec and seed, and where it sits in a sweep."""

    spec: ScenarioSpec
    seed: int
    episode_id: str
    cell: int = 0
    factors: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, episode: SweepEpisode) -> Job:
        """The job for one expanded sweep episode."""
        return cls(episode.spec, episode.seed, episode.episode_id, episode.cell, episode.factors)


@dataclass(frozen=True)
class JobResult:
    """How a job ended."""

    episode_id: str
    status: Status
    manifest: Manifest | None = None
    error: str | None = None

    @property
    def usage(self) -> dict[str, float]:
        """LLM calls, tokens and cost of the episode (zeros for scripted agents)."""
        return dict(self.manifest.usage) if self.manifest is not None else {}


async def execute(job: Job, out_dir: Path) -> JobResult:
    """Run ``job`` into ``out_dir/<episode_id>/`` unless it is complete; never raises."""
    directory = out_dir / job.episode_id
    if is_complete(directory):
        return JobResult(job.episode_id, "skipped", read_episode(directory).manifest)
    try:
        summary = await run_one(job.spec, job.seed, out_dir)
    except Exception:
        return JobResult(job.episode_id, "failed", error=traceback.format_exc())
    manifest = summary.manifest
    if not manifest.played:  # degraded: not a played game, so a retry runs it again
        reason = f"{manifest.status}: {manifest.status_reason}"
        return JobResult(job.episode_id, "failed", manifest, error=reason)
    return JobResult(job.episode_id, "complete", manifest)
