"""The embedded presets playing a real game: valid-action rate and seconds per call.

Plays one 6-player LLM game of The Traitors per preset through the gateway, all seats on
the same model, and prints calls, decisions, repairs, invalid actions (defaults applied)
and timing. This is how the default model of ``scenarios/the_traitors.yaml`` was chosen.

    python benchmarks/local_game.py [--models local/smollm2-135m local/gemma3-270m]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from traitors.episode.spec import load_spec
from traitors.sweep.episodes import run_one

SPEC = Path(__file__).resolve().parent.parent / "scenarios" / "the_traitors.yaml"


def play(model: str, seed: int, out: Path) -> dict[str, float]:
    spec = load_spec(
        SPEC,
        [
            "agents.default.policy=llm",
            f"agents.default.model={model}",
            "rules.n_players=6",
            "rules.n_traitors=2",
        ],
    )
    started = time.perf_counter()
    summary = asyncio.run(run_one(spec, seed, out))
    elapsed = time.perf_counter() - started
    calls = [json.loads(line) for line in (summary.dir / "calls.jsonl").read_text().splitlines()]
    decisions = [c for c in calls if "response_format" in c["params"]]
    repairs = [c for c in decisions if "not accepted" in c["messages"][-1]["content"]]
    events = (summary.dir / "events.jsonl").read_text().splitlines()
    invalid = sum(1 for line in events if '"kind":"invalid_action"' in line)
    first_tries = len(decisions) - len(repairs)
    return {
        "rounds": summary.manifest.outcome.rounds if summary.manifest.outcome else 0,
        "calls": len(calls),
        "first_tries": first_tries,
        "repairs": len(repairs),
        "invalid": invalid,
        "valid_rate": 1 - invalid / first_tries if first_tries else 0.0,
        "first_try_rate": 1 - len(repairs) / first_tries if first_tries else 0.0,
        "s_per_call": elapsed / len(calls),  # wall time: simultaneous calls share the model
        "tokens_out": sum(c["usage"]["completion_tokens"] for c in calls),
        "seconds": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["local/smollm2-135m", "local/gemma3-270m"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    table = Table(title="embedded presets, one 6-player game each (2 traitors)")
    columns = (
        "model",
        "rounds",
        "calls",
        "valid first try",
        "valid after repair",
        "s/call",
        "game s",
    )
    for column in columns:
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            r = play(model, args.seed, Path(tmp) / model.replace("/", "_"))
            table.add_row(
                model,
                f"{r['rounds']:.0f}",
                f"{r['calls']:.0f}",
                f"{100 * r['first_try_rate']:.0f}%",
                f"{100 * r['valid_rate']:.0f}%",
                f"{r['s_per_call']:.2f}",
                f"{r['seconds']:.0f}",
            )
            Console().print(f"{model}: {r}")
    Console().print(table)


if __name__ == "__main__":
    main()
