"""One unit of sweep work: run an episode into its directory and report how it went."""

from __future__ import annotations

import json
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from traitors.episode.spec import ScenarioSpec
from traitors.store.log import CALLS
from traitors.store.manifest import ForkRecord, Manifest
from traitors.store.validity import is_timeout
from traitors.sweep.episodes import run_one
from traitors.sweep.spec import SweepEpisode

Status = Literal["complete", "failed", "skipped", "pending"]
"""``pending``: not started (the sweep's budget was spent)."""


@dataclass(frozen=True)
class Job:
    """An episode to run: its spec and seed, and where it sits in a sweep."""

    spec: ScenarioSpec
    seed: int
    episode_id: str
    cell: int = 0
    factors: dict[str, Any] = field(default_factory=dict)
    fork: ForkRecord | None = None
    """For a fork: its parent, fork point and intervention (``spec`` and ``seed`` are the
    parent's)."""

    @classmethod
    def of(cls, episode: SweepEpisode) -> Job:
        """The job for one expanded sweep episode."""
        return cls(episode.spec, episode.seed, episode.episode_id, episode.cell, episode.factors)


@dataclass(frozen=True)
class JobResult:
    """How a job ended, in a few words (a sweep keeps one per episode: no manifest)."""

    episode_id: str
    status: Status
    error: str | None = None
    """Why it failed: the traceback, or the reason it is degraded."""
    usage: dict[str, int | float] = field(default_factory=dict)
    """LLM calls, tokens and cost of the episode (empty if it did not finish)."""
    outcome: str | None = None
    """Who won (``draw`` for none), once the game was played."""
    health: dict[str, int] = field(default_factory=dict)
    """The manifest's ``health_total`` (decisions, defaulted, repaired, calls, failed_calls)
    and the calls that failed on a timeout (``timeouts``); empty if it did not finish: what
    the sweep summary's validity counts add up."""
    call_error: str | None = None
    """The last model call error of a degraded episode (what the circuit breaker names)."""

    @property
    def degraded(self) -> bool:
        """A failure that played to the end but degraded (its manifest's health is known)."""
        return self.status == "failed" and bool(self.health)

    @classmethod
    def of(
        cls,
        episode_id: str,
        status: Status,
        manifest: Manifest,
        error: str | None = None,
        timeouts: int = 0,
        call_error: str | None = None,
    ) -> JobResult:
        """The result of an episode that wrote ``manifest`` (``timeouts`` of its calls, and
        the last call error)."""
        outcome = manifest.outcome
        winner = (outcome.winner or "draw") if outcome is not None else None
        health = {**manifest.health_total.model_dump(), "timeouts": timeouts}
        return cls(episode_id, status, error, dict(manifest.usage), winner, health, call_error)


def failed_calls(directory: Path) -> tuple[int, str | None]:
    """The episode's calls whose final error is a timeout, and the last call error (from its
    ``calls.jsonl``)."""
    timeouts, last = 0, None
    try:
        with open(directory / CALLS, "rb") as f:
            for line in f:
                if b'"error":null' in line:  # most lines need no parsing
                    continue
                error = json.loads(line).get("error")
                timeouts += is_timeout(error)
                last = error or last
    except (OSError, ValueError):
        pass
    return timeouts, last


async def execute(job: Job, out_dir: Path) -> JobResult:
    """Run ``job`` into ``out_dir/<episode_id>/`` unless it is complete; never raises."""
    try:
        summary = await run_one(job.spec, job.seed, out_dir, fork=job.fork)
    except Exception:
        return JobResult(job.episode_id, "failed", error=traceback.format_exc())
    manifest = summary.manifest
    if summary.skipped:
        return JobResult.of(job.episode_id, "skipped", manifest)
    timeouts, last = failed_calls(summary.dir) if manifest.health_total.failed_calls else (0, None)
    if not manifest.played:  # degraded: not a played game, so a retry runs it again
        reason = f"{manifest.status}: {manifest.status_reason}"
        return JobResult.of(job.episode_id, "failed", manifest, reason, timeouts, last)
    return JobResult.of(job.episode_id, "complete", manifest, timeouts=timeouts)
