"""Judge calls against the gateway's limit: ``traitors judge`` on a fake model with latency.

A fake model answers after a fixed latency; the gateway allows C calls at once to its
endpoint, so no judge can beat C / latency calls per second. The statements of a dataset of
scripted Traitors episodes (exported once with inlined context) are judged with
concurrency C (as many as C / latency x ``--seconds``), after a warm-up run that imports
litellm; the table compares calls/s over the whole run (recording, scores and manifest
included) with that ideal, and gives each call's time beyond the model's latency (litellm's
work per call, on one core). Goal: at least 90%.

    python benchmarks/judge.py [--latencies 0.2 1.0] [--limits 4 8 16] [--seconds 12]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
# Run as a script, this directory comes first on sys.path and benchmarks/analysis.py would
# shadow the package: drop it, so ``import analysis`` finds the package.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]

from traitors.cli import main as traitors  # noqa: E402
from traitors.commands.judge import dataset_statements  # noqa: E402
from traitors.llm.fake import FakeCall, register_fake_model, schema_filler  # noqa: E402
from traitors.sweep.judge import JudgeSettings, run_judge  # noqa: E402
from traitors.sweep.judge_prompt import DEFAULT_TEMPLATE  # noqa: E402

SPEC = HERE.parent / "scenarios" / "the_traitors.yaml"
CALLS: dict[str, int] = {}
"""Calls that reached each fake model (by model string), counted by the model."""


def slow_model(latency: float) -> str:
    fill = schema_filler()
    model = f"fake/judge-latency{latency}"

    async def answer(call: FakeCall) -> str:
        CALLS[model] += 1
        await asyncio.sleep(latency)
        return fill(call)

    CALLS[model] = 0
    return register_fake_model(model.removeprefix("fake/"), answer)


def make_dataset(root: Path, episodes: int) -> Path:
    run, dataset = root / "run", root / "ds"
    args = ["run", str(SPEC), "--agents", "scripted", "--episodes", str(episodes)]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        traitors([*args, "--no-events", "--out", str(run)])
        traitors(["dataset", str(run), "--out", str(dataset), "--inline-context"])
    return dataset


def judge_seconds(
    dataset: Path, model: str, limit: int, out: Path, limit_to: int = 0
) -> tuple[int, int, float]:
    """Statements judged, calls that reached the model and seconds taken (the first
    ``limit_to`` statements when set)."""
    statements, _ = dataset_statements(dataset, (), None)
    statements = statements[:limit_to] if limit_to else statements
    settings = JudgeSettings(model=model, template=DEFAULT_TEMPLATE)
    calls_before = CALLS[model]
    started = time.perf_counter()
    result = run_judge(statements, settings, dataset, out, concurrency=limit)
    seconds = time.perf_counter() - started
    assert result.manifest.status == "complete", result.manifest.failed
    return len(statements), CALLS[model] - calls_before, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--latencies", type=float, nargs="+", default=[0.2, 1.0], help="fake latencies (s)"
    )
    parser.add_argument("--limits", type=int, nargs="+", default=[4, 8, 16], help="limits C")
    parser.add_argument("--seconds", type=float, default=12.0, help="ideal seconds per run")
    parser.add_argument("--episodes", type=int, default=50, help="scripted episodes exported")
    args = parser.parse_args()
    table = Table(title="traitors judge against the gateway's limit (fake model with latency)")
    columns = ("latency", "limit C", "statements", "seconds", "calls/s", "ideal C/latency")
    for column in (*columns, "% of ideal", "overhead ms/call"):
        table.add_column(column, justify="right")
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        dataset = make_dataset(root, args.episodes)
        for latency in args.latencies:
            model = slow_model(latency)
            judge_seconds(dataset, model, 8, root / f"warm-up-{latency}", limit_to=16)
            for limit in args.limits:
                ideal = limit / latency
                out = root / f"judge-{latency}-{limit}"
                n, calls, seconds = judge_seconds(
                    dataset, model, limit, out, round(ideal * args.seconds)
                )
                if calls != n:
                    notes.append(f"{latency * 1000:.0f} ms, C={limit}: {calls} calls, {n} judged")
                rate = calls / seconds
                overhead = 1000 * (limit / rate - latency)  # each slot's time beyond the model's
                table.add_row(
                    f"{latency * 1000:.0f} ms", str(limit), f"{n:,}", f"{seconds:.2f}",
                    f"{rate:.1f}", f"{ideal:.1f}", f"{100 * rate / ideal:.0f}%", f"{overhead:.0f}",
                )  # fmt: skip
    Console(width=120).print(table)
    print("calls: counted by the fake model as they reached it")
    print(*(notes or ["one call per statement in every run"]), sep="\n")
    print("goal: >= 90% of ideal")


if __name__ == "__main__":
    main()
