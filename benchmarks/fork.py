"""Forks vs re-playing from the start: model calls and wall time of the same change.

A parent episode is played by LLM seats on a fake model that takes ``--latency`` seconds per
call (as a provider would). For the first message of each round k, the same intervention
(the message dropped) is run two ways, one continuation each:

- fork: ``traitors fork``'s path; the prefix is restored from the parent's recording, so
  it makes no model call, and only the continuation calls the model;
- from the start: the episode played again live from event 0 with the change applied at
  the same decision (what a study does without forks): every call before the fork point
  is made again.

Goal: zero calls before the fork point, and fork wall time that follows the continuation.

    python benchmarks/fork.py [--latency 0.05] [--players 8] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from traitors.episode.engine import run_episode
from traitors.episode.fork import ForkPlan, fork_records, intervene, load_parent
from traitors.episode.policy import Services
from traitors.episode.spec import load_spec
from traitors.store.log import EpisodeWriter
from traitors.sweep.episodes import run_one
from traitors.sweep.services import live_services

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per model call")
    parser.add_argument("--players", type=int, default=8, help="seats of the parent game")
    parser.add_argument("--rounds", type=int, default=5, help="round limit of the parent game")
    args = parser.parse_args()
    model = f"fake/random?latency={args.latency}"
    spec = load_spec(
        ROOT / "scenarios" / "the_traitors.yaml",
        [
            f"rules.n_players={args.players}",
            "rules.n_traitors=2",
            f"rules.max_rounds={args.rounds}",
            "rules.belief_probe=false",
            "agents.default.policy=llm",
            f"agents.default.model={model}",
        ],
    )
    table = Table(title=f"fork vs from the start, one continuation ({args.latency:.2f} s/call)")
    for column in (
        "round", "fork at", "events", "fork: calls before / after", "fork s",
        "from start: calls before / after", "from start s", "time ratio",
    ):  # fmt: skip
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        parent_dir = asyncio.run(run_one(spec, 1, work / "parent")).dir
        parent = load_parent(str(parent_dir))
        firsts = {}
        for event in parent.events:
            if event.kind == "speak" and event.phase == "discussion":
                firsts.setdefault(event.round, event.seq)
        for round_, target in sorted(firsts.items()):
            at, change = intervene(parent, "drop", target)
            (record,) = fork_records(parent, at, change, 1, control=False)
            started = time.perf_counter()
            fork = asyncio.run(
                run_one(parent.spec, parent.log.manifest.seed, work / "f", fork=record)
            )
            fork_s = time.perf_counter() - started
            started = time.perf_counter()
            again = asyncio.run(from_start(parent.spec, parent.log.manifest.seed, record, work))
            again_s = time.perf_counter() - started
            forked = fork.manifest
            assert forked.fork is not None and again.fork is not None
            table.add_row(
                str(round_),
                str(at),
                str(len(parent.events)),
                f"0 / {forked.usage['calls']:.0f}",
                f"{fork_s:.2f}",
                f"{again.fork.prefix_calls} / {again.usage['calls']:.0f}",
                f"{again_s:.2f}",
                f"{fork_s / again_s:.2f}",
            )
    Console().print(table)
    print("fork: calls before the fork point are served from the parent's recording (0 made).")


async def from_start(spec, seed, record, work):  # type: ignore[no-untyped-def]
    """The same change, played live from event 0 (no recording), and its manifest."""
    plan = ForkPlan(record)
    writer = EpisodeWriter(work / "again" / plan.episode_id)
    services: Services = live_services(writer)
    result = await run_episode(spec, seed, writer=writer, services=services, fork=plan)
    return result.manifest


if __name__ == "__main__":
    main()
