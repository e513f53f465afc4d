"""Model-call throughput of concurrent LLM episodes against the gateway's limit.

A fake model answers after a fixed latency; the gateway allows C calls at once to its
endpoint, so no design can beat C / latency calls per second. Episodes of a 10-player
game run concurrently in one event loop, refilled as they finish, for a fixed window; the
table compares calls/s with that ideal and with one call at a time (how the Traitors
paper's reference code runs). Goal: at least 90% of ideal at 16 episodes.

    python benchmarks/llm_concurrency.py [--latency 0.2] [--limit 8] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from traitors.episode.engine import run_episode
from traitors.episode.policy import Services
from traitors.episode.spec import load_spec
from traitors.llm.fake import FakeCall, register_fake_model, schema_filler
from traitors.llm.gateway import Gateway
from traitors.store.calls import CallLog

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
SPEC = Path(__file__).resolve().parent.parent / "scenarios" / "the_traitors.yaml"


def slow_model(latency: float) -> str:
    fill = schema_filler()

    async def answer(call: FakeCall) -> str:
        await asyncio.sleep(latency)
        return fill(call)

    return register_fake_model(f"latency{latency}", answer)


async def throughput(model: str, episodes: int, limit: int, seconds: float) -> float:
    """Calls/s completed within ``seconds`` with ``episodes`` always in flight."""
    spec = load_spec(
        SPEC, ["agents.default.policy=llm", f"agents.default.model={model}", "rules.n_players=10"]
    )
    gateway = Gateway(default_limit=limit)
    logs: list[CallLog] = []
    seeds = itertools.count()

    async def slot() -> None:
        while True:
            log = CallLog()
            logs.append(log)
            await run_episode(spec, next(seeds), services=Services(gateway=gateway, calls=log))

    tasks = [asyncio.create_task(slot()) for _ in range(episodes)]
    # warm up: the first calls import litellm (seconds on a busy machine), then one more second
    while not any(log.totals["calls"] for log in logs):
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    start_calls = sum(log.totals["calls"] for log in logs)
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    calls = sum(log.totals["calls"] for log in logs) - start_calls
    elapsed = time.perf_counter() - started
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return calls / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="fake model latency (s)")
    parser.add_argument("--limit", type=int, default=8, help="gateway limit C per endpoint")
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring window (s)")
    args = parser.parse_args()
    model = slow_model(args.latency)
    ideal = args.limit / args.latency
    sequential = asyncio.run(throughput(model, 1, 1, args.seconds))
    table = Table(
        title=f"LLM call throughput: fake model {args.latency * 1000:.0f} ms, limit C={args.limit}"
    )
    for column in ("design", "episodes", "calls/s", "% of ideal C/latency", "x one-at-a-time"):
        table.add_column(column, justify="right")
    table.add_row(
        "one call at a time", "1", f"{sequential:.1f}", f"{100 * sequential / ideal:.0f}%", "1.0"
    )
    for episodes in (1, 4, 16):
        rate = asyncio.run(throughput(model, episodes, args.limit, args.seconds))
        table.add_row(
            "gateway",
            str(episodes),
            f"{rate:.1f}",
            f"{100 * rate / ideal:.0f}%",
            f"{rate / sequential:.1f}",
        )
    Console(width=100).print(table)
    print(f"ideal = C / latency = {ideal:.1f} calls/s; goal: >= 90% of ideal at 16 episodes")


if __name__ == "__main__":
    main()
