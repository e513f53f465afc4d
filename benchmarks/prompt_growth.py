"""Prompt size by round: does an LLM agent's prompt stay bounded as the game grows?

Plays LLM games with a fake model (usage counted at 4 characters a token) and prints, for
each round, the mean prompt tokens per decision and, for contrast, the mean number of events
the deciding agent had seen by then (what a prompt holding its whole history would grow
with), each also as a multiple of round 2. A 10-player game ends by round 8 at the latest
(a faithful dies every night), so a 20-player game shows the longer horizon. Goal: round 10
at most 1.5x round 2 (prompt tokens).

    python benchmarks/prompt_growth.py [--seeds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from traitors.episode.engine import run_episode
from traitors.episode.policy import Observation, Services
from traitors.episode.spec import load_spec
from traitors.game.events import EventBase
from traitors.llm.fake import register_fake_model, schema_filler
from traitors.llm.gateway import Gateway
from traitors.store.calls import CallLog, CallRecord

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
SPEC = Path(__file__).resolve().parent.parent / "scenarios" / "the_traitors.yaml"
ROUND = re.compile(r"^Round (\d+)\.", re.MULTILINE)


class _Recorder:
    """A call log that keeps each decision's round and prompt tokens; as the episode's
    observer, it also keeps the events each deciding agent had seen, by round."""

    def __init__(self) -> None:
        self.log = CallLog()
        self.by_round: dict[int, list[int]] = defaultdict(list)
        self.seen: dict[int, list[int]] = defaultdict(list)
        add = self.log.add

        def record(entry: CallRecord) -> None:
            add(entry)
            if "response_format" in entry.params:  # a decision
                found = ROUND.search(entry.messages[1]["content"])
                if found:
                    self.by_round[int(found.group(1))].append(entry.usage.prompt_tokens)

        self.log.add = record  # type: ignore[method-assign]

    def on_event(self, event: EventBase, state: object) -> None:
        pass

    def on_decision(self, observation: Observation, request: object, action: object) -> None:
        self.seen[observation.round].append(len(observation.events))


def growth(players: int, traitors: int, seeds: int) -> tuple[dict[int, list[int]], ...]:
    """Per round: each decision's prompt tokens, and the events each decider had seen."""
    model = register_fake_model(f"growth{players}", schema_filler())
    spec = load_spec(
        SPEC,
        [
            "agents.default.policy=llm",
            f"agents.default.model={model}",
            f"rules.n_players={players}",
            f"rules.n_traitors={traitors}",
            "rules.banish_tie=no_banish",
        ],
    )
    tokens: dict[int, list[int]] = defaultdict(list)
    seen: dict[int, list[int]] = defaultdict(list)
    gateway = Gateway(default_limit=64)
    for seed in range(seeds):
        recorder = _Recorder()
        services = Services(gateway=gateway, calls=recorder.log)
        asyncio.run(run_episode(spec, seed, services=services, observers=[recorder]))
        for round_no, values in recorder.by_round.items():
            tokens[round_no].extend(values)
        for round_no, values in recorder.seen.items():
            seen[round_no].extend(values)
    return tokens, seen


def times_round_2(values: dict[int, list[int]], round_no: int) -> str:
    """The round's mean as a multiple of round 2's ("-" without a round 2)."""
    if not values.get(2):
        return "-"
    return f"{statistics.mean(values[round_no]) / statistics.mean(values[2]):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    console = Console()
    for players, traitors in ((10, 3), (20, 2)):
        tokens, seen = growth(players, traitors, args.seeds)
        table = Table(title=f"prompt tokens per decision, {players} players, {args.seeds} games")
        for column in ("round", "decisions", "mean prompt tokens", "x round 2",
                       "mean events seen", "x round 2"):  # fmt: skip
            table.add_column(column, justify="right")
        for round_no in sorted(tokens.keys() | seen.keys()):
            row = [str(round_no), str(len(tokens[round_no]))]
            for values in (tokens, seen):
                mean = f"{statistics.mean(values[round_no]):.0f}" if values[round_no] else "-"
                ratio = times_round_2(values, round_no) if values[round_no] else "-"
                row += [mean, ratio]
            table.add_row(*row)
        console.print(table)
    print("events seen: every event visible to the deciding agent so far, at its decision")
    print("goal: round 10 at most 1.5x round 2 (prompt tokens)")


if __name__ == "__main__":
    main()
