"""Sweeps at scale: episodes/s of `traitors sweep` at 1k and 10k (100k with --full) scripted
8-player episodes, local and on Ray, against the bare engine; the driver's peak memory;
and `traitors analyze` on the result.

Each sweep runs as its own process (a fresh driver, as a user runs it). "steady" is the rate
between the first episode's start and the last one's end (from the manifests), so start-up
(imports, Ray) and the closing compaction into Parquet shards are left out; "wall" includes
them. Goals: the local sweep at least 0.8x the bare engine and flat (within 15%) from 1k up;
Ray with N CPUs at least 0.8 N times one local process.

    python benchmarks/sweep_scale.py [--sizes 1000 10000] [--full] [--no-ray]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from traitors.episode.engine import run_episode
from traitors.episode.spec import load_spec
from traitors.store.log import MANIFEST, EpisodeWriter
from traitors.store.shards import read_sharded_manifests

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "scenarios" / "the_traitors.yaml"
SETTINGS = {"agents.default.policy": "heuristic", "rules.n_players": 8, "rules.n_traitors": 2}
RUN = (
    "import resource, sys; from traitors.cli import main; code = main(sys.argv[1:]); "
    "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(code)"
)


def bare_engine(episodes: int = 300) -> float:
    """Episodes/s of run_episode with logs, one after another, in this process."""
    spec = load_spec(BASE, [f"{k}={v}" for k, v in SETTINGS.items()])

    async def play(out: Path) -> None:
        for seed in range(episodes):
            await run_episode(spec, seed, writer=EpisodeWriter(out / str(seed)))

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(play(Path(tmp) / "warm"))
        started = time.perf_counter()
        asyncio.run(play(Path(tmp) / "timed"))
        return episodes / (time.perf_counter() - started)


def sweep(size: int, work: Path, executor: str) -> dict[str, float]:
    """Run one sweep as a fresh process; wall and steady episodes/s, peak MB, analyze s."""
    spec = work / f"sweep-{size}.yaml"
    settings = ", ".join(f"{k}: {v}" for k, v in SETTINGS.items())
    spec.write_text(f"name: scale\nbase: {BASE}\nset: {{{settings}}}\nepisodes: {size}\n")
    out = work / f"out-{executor}-{size}"
    args = ["sweep", str(spec), "--out", str(out), "--concurrency", "8"]
    if executor == "ray":
        args += ["--executor", "ray", "--actors", "2"]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", RUN, *args], capture_output=True, text=True, cwd=ROOT
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"sweep failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    peak_kb = float(done.stdout.rsplit("MAXRSS", 1)[1].split()[0])
    begins, ends = [], []
    for manifest in manifests(out):
        begins.append(manifest["started_at"])
        ends.append(manifest["finished_at"])
    steady = (len(ends) - 1) / (max(ends) - min(begins))
    started = time.perf_counter()
    analyzed = subprocess.run(
        [sys.executable, "-m", "traitors.cli", "analyze", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    analyze = time.perf_counter() - started
    if analyzed.returncode != 0:
        raise SystemExit(f"analyze failed:\n{analyzed.stderr[-2000:]}")
    return {"wall": size / wall, "steady": steady, "peak_mb": peak_kb / 1024, "analyze": analyze}


def manifests(out: Path) -> list[dict[str, float]]:
    """Every episode's manifest, from its shard or its directory."""
    found = [json.loads(text) for _, text in read_sharded_manifests(out)]
    found += [json.loads(p.read_text()) for p in out.glob(f"*/{MANIFEST}")]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--full", action="store_true", help="add 100,000 episodes")
    parser.add_argument("--no-ray", action="store_true", help="local executor only")
    args = parser.parse_args()
    sizes = [*args.sizes, 100_000] if args.full else args.sizes
    executors = ["local"] if args.no_ray else ["local", "ray"]
    reference = bare_engine()
    table = Table(title=f"sweeps of scripted 8-player episodes (bare engine: {reference:.0f}/s)")
    for column in ("episodes", "executor", "wall ep/s", "steady ep/s", "vs engine",
                   "driver peak MB", "analyze s"):  # fmt: skip
        table.add_column(column, justify="right")
    rates: dict[tuple[str, int], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            for executor in executors:
                got = sweep(size, Path(tmp), executor)
                rates[executor, size] = got["steady"]
                table.add_row(
                    f"{size:,}",
                    executor,
                    f"{got['wall']:.0f}",
                    f"{got['steady']:.0f}",
                    f"{got['steady'] / reference:.2f}x",
                    f"{got['peak_mb']:.0f}",
                    f"{got['analyze']:.1f}",
                )
    Console(width=110).print(table)
    local = [rates["local", s] for s in sizes]
    if len(sizes) > 1:
        print(f"local steady rate, largest vs smallest sweep: {local[-1] / local[0]:.2f}x")
    if not args.no_ray:
        for size in sizes:
            ratio = rates["ray", size] / rates["local", size]
            print(f"ray (2 actors) vs local at {size:,}: {ratio:.2f}x")
    print("goals: local >= 0.8x the engine, flat within 15%; ray >= 1.6x local on 2 CPUs")


if __name__ == "__main__":
    main()
