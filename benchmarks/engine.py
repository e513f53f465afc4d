"""Engine throughput: scripted 10-player episodes/s and events/s on one core.

Runs the same seeds with and without writing episode directories, side by side in one
process pinned to one core, and prints one table. Goal: at least 100 episodes/s with logs.

    python benchmarks/engine.py [--episodes 300]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from traitors.episode.engine import run_episode
from traitors.episode.spec import load_spec, with_policy
from traitors.store.log import EpisodeWriter

SPEC = Path(__file__).resolve().parent.parent / "scenarios" / "the_traitors.yaml"


def measure(policy: str, episodes: int, out: Path | None) -> tuple[float, int]:
    """Seconds and events for ``episodes`` sequential episodes."""
    spec = with_policy(load_spec(SPEC), policy)
    events = 0

    async def play() -> None:
        nonlocal events
        for seed in range(episodes):
            writer = EpisodeWriter(out / f"{seed:05d}") if out else None
            result = await run_episode(spec, seed, writer=writer)
            events += len(result.events)

    started = time.perf_counter()
    asyncio.run(play())
    return time.perf_counter() - started, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=300)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    table = Table(title=f"engine: {args.episodes} scripted 10-player episodes, one core")
    for column in ("policy", "logs", "episodes/s", "events/s", "ms/episode"):
        table.add_column(column, justify="right")
    measure("heuristic", 20, None)  # warm-up: imports, registries
    for policy in ("heuristic", "random"):
        for logs in (False, True):
            with tempfile.TemporaryDirectory() as tmp:
                seconds, events = measure(policy, args.episodes, Path(tmp) if logs else None)
            table.add_row(
                policy,
                "yes" if logs else "no",
                f"{args.episodes / seconds:.0f}",
                f"{events / seconds:.0f}",
                f"{1000 * seconds / args.episodes:.2f}",
            )
    Console().print(table)
    print("goal: >= 100 episodes/s with logs")


if __name__ == "__main__":
    main()
