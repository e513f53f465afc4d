"""Prompt size by round: does an LLM agent's prompt stay bounded as the game grows?

Plays LLM games with a fake model (usage counted at 4 characters a token) and prints the
mean prompt tokens per decision for each round, with the events each agent had seen by
then for contrast. A 10-player game ends by round 8 at the latest (a faithful dies every
night), so a 20-player game shows the longer horizon. Goal: round 10 at most 1.5x round 2.

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
from traitors.episode.policy import Services
from traitors.episode.spec import load_spec
from traitors.llm.fake import register_fake_model, schema_filler
from traitors.llm.gateway import Gateway
from traitors.store.calls import CallLog, CallRecord

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
SPEC = Path(__file__).resolve().parent.parent / "scenarios" / "the_traitors.yaml"
ROUND = re.compile(r"^Round (\d+)\.", re.MULTILINE)


class _Recorder:
    """A call log that keeps each decision's round and prompt tokens."""

    def __init__(self) -> None:
        self.log = CallLog()
        self.by_round: dict[int, list[int]] = defaultdict(list)
        add = self.log.add

        def record(entry: CallRecord) -> None:
            add(entry)
            if "response_format" in entry.params:  # a decision
                found = ROUND.search(entry.messages[1]["content"])
                if found:
                    self.by_round[int(found.group(1))].append(entry.usage.prompt_tokens)

        self.log.add = record  # type: ignore[method-assign]


def growth(players: int, traitors: int, seeds: int) -> dict[int, list[int]]:
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
    gateway = Gateway(default_limit=64)
    for seed in range(seeds):
        recorder = _Recorder()
        services = Services(gateway=gateway, calls=recorder.log)
        asyncio.run(run_episode(spec, seed, services=services))
        for round_no, values in recorder.by_round.items():
            tokens[round_no].extend(values)
    return tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    console = Console()
    for players, traitors in ((10, 3), (20, 2)):
        tokens = growth(players, traitors, args.seeds)
        base = statistics.mean(tokens[2]) if tokens.get(2) else None
        table = Table(title=f"prompt tokens per decision, {players} players, {args.seeds} games")
        for column in ("round", "decisions", "mean prompt tokens", "x round 2"):
            table.add_column(column, justify="right")
        for round_no in sorted(tokens):
            mean = statistics.mean(tokens[round_no])
            ratio = f"{mean / base:.2f}" if base else "-"
            table.add_row(str(round_no), str(len(tokens[round_no])), f"{mean:.0f}", ratio)
        console.print(table)
    print("goal: round 10 at most 1.5x round 2")


if __name__ == "__main__":
    main()
