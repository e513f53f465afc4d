"""Forks vs re-playing from the start: model calls and wall time of the same change.

A parent episode is played by LLM seats on a fake model that takes ``--latency`` seconds per
call (as a provider would). For the first message of each round k, the same intervention
(the message dropped) is run two ways, one continuation each:

- fork: ``traitors fork``'s path; the prefix is restored from the parent's recording, so
  it should make no model call, and only the continuation calls the model;
- from the start: the episode played again live from event 0 with the change applied at
  the same decision (what a study does without forks): every call before the fork point
  is made again.

The calls are counted at the model: the fake model counts each call as it arrives, before
the fork point if the episode had then recorded fewer events than the fork point, after it
otherwise. The manifests' own counts (calls after the fork point; calls served from the
recording or made live before it) are checked against the model's, and any difference is
printed. Goal: zero calls before the fork point, and fork wall time that follows the
continuation.

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
from traitors.game.events import EventBase
from traitors.llm.fake import FakeCall, register_fake_model, schema_filler
from traitors.store.log import EpisodeWriter
from traitors.sweep.episodes import run_one
from traitors.sweep.services import live_services

ROOT = Path(__file__).resolve().parent.parent


class CountingModel:
    """A fake model with a fixed latency (the answers of ``fake/random``) that counts the
    calls reaching it, split at a fork point by the events its episode had recorded when
    each call arrived. It is also the episode's observer, to know that count."""

    def __init__(self, latency: float) -> None:
        self.recorded = 0
        self.fork_at = 0
        self.before = self.after = 0
        fill = schema_filler()

        async def answer(call: FakeCall) -> str:
            if self.recorded < self.fork_at:
                self.before += 1
            else:
                self.after += 1
            await asyncio.sleep(latency)
            return fill(call)

        self.model = register_fake_model("fork_bench", answer)

    def count(self, fork_at: int) -> CountingModel:
        """Count afresh for an episode forking at event ``fork_at`` (0: every call after)."""
        self.recorded, self.fork_at, self.before, self.after = 0, fork_at, 0, 0
        return self

    def on_event(self, event: EventBase, state: object) -> None:
        self.recorded = event.seq + 1

    def on_decision(self, observation: object, request: object, action: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per model call")
    parser.add_argument("--players", type=int, default=8, help="seats of the parent game")
    parser.add_argument("--rounds", type=int, default=5, help="round limit of the parent game")
    args = parser.parse_args()
    counter = CountingModel(args.latency)
    model = counter.model
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
        "round", "fork at", "fork: calls before / after", "fork s",
        "from start: calls before / after", "from start s", "time ratio",
    ):  # fmt: skip
        table.add_column(column, justify="right")
    disagreements = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        parent_run = run_one(spec, 1, work / "parent", observers=[counter.count(0)])
        parent_dir = asyncio.run(parent_run).dir
        parent_calls = counter.after
        parent = load_parent(str(parent_dir))
        firsts = {}
        for event in parent.events:
            if event.kind == "speak" and event.phase == "discussion":
                firsts.setdefault(event.round, event.seq)
        for round_, target in sorted(firsts.items()):
            at, change = intervene(parent, "drop", target)
            (record,) = fork_records(parent, at, change, 1, control=False)
            seed = parent.log.manifest.seed
            started = time.perf_counter()
            fork_run = run_one(parent.spec, seed, work / "f", [counter.count(at)], fork=record)
            forked = asyncio.run(fork_run).manifest
            fork_s = time.perf_counter() - started
            fork_calls = (counter.before, counter.after)
            started = time.perf_counter()
            again = asyncio.run(from_start(parent.spec, seed, record, work, counter.count(at)))
            again_s = time.perf_counter() - started
            again_calls = (counter.before, counter.after)
            assert forked.fork is not None and again.fork is not None
            disagreements += [
                f"round {round_}, {name}: the model saw {seen}, the manifest says {said}"
                for name, seen, said in (
                    ("fork, after", fork_calls[1], forked.usage["calls"]),
                    ("from start, before", again_calls[0], again.fork.prefix_calls),
                    ("from start, after", again_calls[1], again.usage["calls"]),
                )
                if seen != said
            ]
            table.add_row(
                str(round_),
                str(at),
                f"{fork_calls[0]} / {fork_calls[1]}",
                f"{fork_s:.2f}",
                f"{again_calls[0]} / {again_calls[1]}",
                f"{again_s:.2f}",
                f"{fork_s / again_s:.2f}",
            )
    Console(width=120).print(table)
    print(
        f"parent: {len(parent.events)} events, {parent_calls} model calls; calls counted at "
        "the model, before the fork point = while the episode had fewer events than 'fork at'"
    )
    if disagreements:
        print("the manifests disagree with the model's counts:", *disagreements, sep="\n  ")
    else:
        print("the manifests' call counts agree with the model's")


async def from_start(spec, seed, record, work, observer):  # type: ignore[no-untyped-def]
    """The same change, played live from event 0 (no recording), and its manifest."""
    plan = ForkPlan(record)
    writer = EpisodeWriter(work / "again" / plan.episode_id)
    services: Services = live_services(writer)
    result = await run_episode(
        spec, seed, writer=writer, services=services, observers=[observer], fork=plan
    )
    return result.manifest


if __name__ == "__main__":
    main()
