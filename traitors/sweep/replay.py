"""Re-execute a recorded episode and compare it, event by event, with its log.

Model answers are served from the episode's ``calls.jsonl`` and seats played in person from
the log, so neither a model nor a person is needed. A fork replays from its own files too:
its ``calls.jsonl`` holds the calls that restored its prefix.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from traitors.episode.engine import run_episode
from traitors.episode.fork import ForkPlan
from traitors.episode.recorded import played_from_log
from traitors.episode.spec import validate_spec
from traitors.store.log import EVENTS, read_episode
from traitors.sweep.services import replay_services


@dataclass(frozen=True)
class ReplayResult:
    """Whether the replay matched, and where it first diverged if not."""

    ok: bool
    events: int
    divergence: str | None = None


def replay_episode(directory: str | Path) -> ReplayResult:
    """Run the manifest's spec and seed again and compare every event and the outcome."""
    directory = Path(directory)
    log = read_episode(directory)
    spec = validate_spec(log.manifest.spec, source=str(directory / "manifest.json"))
    services = replay_services(directory, log.manifest)
    fork = log.manifest.fork
    result = asyncio.run(
        run_episode(
            spec,
            log.manifest.seed,
            services=services,
            policies=played_from_log(log),
            fork=ForkPlan(fork, live=False) if fork else None,
        )
    )
    recorded = (directory / EVENTS).read_text().splitlines()
    replayed = [event.model_dump_json() for event in result.events]
    for index, (want, got) in enumerate(zip(recorded, replayed, strict=False)):
        if want != got:
            return ReplayResult(
                False, index, f"event {index} differs:\n  log:    {want}\n  replay: {got}"
            )
    if len(recorded) != len(replayed):
        return ReplayResult(
            False,
            min(len(recorded), len(replayed)),
            f"log has {len(recorded)} events, replay has {len(replayed)}",
        )
    if result.manifest.outcome != log.manifest.outcome:
        return ReplayResult(
            False,
            len(replayed),
            f"outcome differs: log {log.manifest.outcome} replay {result.manifest.outcome}",
        )
    return ReplayResult(True, len(replayed))
