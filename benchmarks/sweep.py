"""Sweep throughput: one-at-a-time vs the local executor vs the Ray executor.

Part 1: 64 LLM episodes (6 players) against a fake model with a fixed latency. The
reference design (the Traitors paper's code, Werewolf Arena) plays one episode at a time
with one model call at a time; it is timed on the first 8 episodes and scaled to 64.
Part 2: scripted episodes/s, local (one process) against Ray with 2 CPUs.
Goals: at least 20x over one-at-a-time; Ray overhead under 10% of wall time at 64 episodes.

    python benchmarks/sweep.py [--latency 0.2] [--episodes 64]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from traitors.sweep.driver import run_sweep
from traitors.sweep.jobs import Job
from traitors.sweep.local import LocalExecutor
from traitors.sweep.progress import SweepProgress
from traitors.sweep.ray_executor import RayExecutor
from traitors.sweep.ray_setup import ensure_ray
from traitors.sweep.services import configure_gateway
from traitors.sweep.spec import SweepSpec, expand_sweep

ROOT = Path(__file__).resolve().parent.parent
BASE = str(ROOT / "scenarios" / "the_traitors.yaml")


def make_jobs(policy: str, episodes: int, model: str = "fake/random") -> list[Job]:
    sweep = SweepSpec(
        name="bench",
        base=BASE,
        set={
            "agents.default.policy": policy,
            "agents.default.model": model,
            "rules.n_players": 6,
            "rules.n_traitors": 2,
        },
        episodes=episodes,
    )
    return [Job.of(e) for e in expand_sweep(sweep, ROOT / "bench.yaml")]


def timed(jobs: list[Job], executor: object, warm: bool = False) -> float:
    """Wall seconds to run ``jobs`` into a fresh directory (Ray actors started first if warm)."""
    quiet = SweepProgress(len(jobs), Console(file=open(os.devnull, "w")))  # noqa: SIM115
    with tempfile.TemporaryDirectory() as tmp:
        if warm:
            assert isinstance(executor, RayExecutor)
            executor.start(Path(tmp), warm_llm=True)
        started = time.perf_counter()
        results = run_sweep(jobs, Path(tmp), executor, {"name": "bench"}, quiet)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
    failed = [r for r in results if r.status != "complete"]
    assert not failed, failed[0].error
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="fake model latency (s)")
    parser.add_argument("--episodes", type=int, default=64)
    parser.add_argument("--scripted", type=int, default=640, help="scripted episodes")
    args = parser.parse_args()
    model = f"fake/random?latency={args.latency}"
    llm_jobs = make_jobs("llm", args.episodes, model)
    ray = ensure_ray(num_cpus=2)

    configure_gateway(default_limit=1)  # one call at a time, one episode at a time
    sample = min(8, args.episodes)  # timed on this many, scaled to all
    sequential = timed(llm_jobs[:sample], LocalExecutor(1)) * args.episodes / sample
    configure_gateway(default_limit=args.episodes)
    local = timed(llm_jobs, LocalExecutor(args.episodes))
    per_actor = args.episodes // 2
    ray_executor = RayExecutor(
        actors=2, per_actor=per_actor, gateway={"default_limit": per_actor}
    )  # the same total model limit as the local executor's
    remote = timed(llm_jobs, ray_executor)
    ray_executor.close()
    ray_executor = RayExecutor(actors=2, per_actor=per_actor, gateway={"default_limit": per_actor})
    remote_warm = timed(llm_jobs, ray_executor, warm=True)
    ray_executor.close()

    table = Table(title=f"{args.episodes} LLM episodes, fake model {args.latency * 1000:.0f} ms")
    for column in ("design", "wall s", "speedup vs one-at-a-time"):
        table.add_column(column, justify="right")
    scaled = f"timed on {sample}, scaled" if sample < args.episodes else f"timed on {sample}"
    table.add_row(f"one at a time ({scaled})", f"{sequential:.1f}", "1.0")
    table.add_row("local executor", f"{local:.1f}", f"{sequential / local:.1f}x")
    table.add_row("ray executor (2 actors)", f"{remote:.1f}", f"{sequential / remote:.1f}x")
    table.add_row(
        "ray executor, actors started and warm",
        f"{remote_warm:.1f}",
        f"{sequential / remote_warm:.1f}x",
    )
    console = Console()
    console.print(table)
    for label, wall in (("cold actors", remote), ("warm actors", remote_warm)):
        print(
            f"Ray overhead vs local, {label}: {100 * (wall - local) / wall:.1f}% of Ray's wall time"
        )

    scripted = make_jobs("heuristic", args.scripted)
    local_s = timed(scripted, LocalExecutor(16))
    ray_executor = RayExecutor(actors=2, per_actor=16)
    remote_s = timed(scripted, ray_executor)
    ray_executor.close()
    ray.shutdown()
    table = Table(title=f"{args.scripted} scripted episodes (6 players), with logs")
    for column in ("executor", "episodes/s"):
        table.add_column(column, justify="right")
    table.add_row("local (1 process)", f"{args.scripted / local_s:.0f}")
    table.add_row("ray (2 CPUs, 2 actors)", f"{args.scripted / remote_s:.0f}")
    console.print(table)
    print("goals: >= 20x over one-at-a-time; Ray overhead < 10% of wall time at 64 episodes")


if __name__ == "__main__":
    main()
