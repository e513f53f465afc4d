"""`traitors analyze` at scale: 10,000 scripted 8-player episodes (100,000 with --full) read
from the Parquet shards a sweep packs them into.

Each size is a sweep made once into ``--data DIR`` (``DIR/<episodes>``, reused when it holds
that many packed episodes; the 100,000 take 10 to 25 minutes on 2 cores) and analysed by a
fresh process, as a user runs it (``--format json``: every default table, none printed).
Times are wall-clock and the CPU time of that process (all threads: less sensitive to other
work on the machine), best of ``--repeat``. ``--baseline SRC`` also times another checkout
of the project (its directory first on PYTHONPATH), interleaved with this one, to compare
them side by side. Goals: under 60 s at 100,000 episodes, and a flat cost per episode
(100,000 within 15% of 10,000).

    python benchmarks/analysis_scale.py [--data DIR] [--full] [--repeat 1] [--baseline SRC]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from traitors.store.shards import shard_index

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "scenarios" / "the_traitors.yaml"
SETTINGS = {"agents.default.policy": "heuristic", "rules.n_players": 8, "rules.n_traitors": 2}
SMALL, LARGE = 10_000, 100_000
GOAL_SECONDS = 60.0
GOAL_FLAT = 1.15


def make_data(data: Path, size: int) -> Path:
    """The run directory of ``size`` packed episodes under ``data``, swept unless it exists."""
    out = data / str(size)
    if out.is_dir() and len(shard_index(out)) == size:
        return out
    data.mkdir(parents=True, exist_ok=True)
    spec = data / f"sweep-{size}.yaml"
    settings = ", ".join(f"{k}: {v}" for k, v in SETTINGS.items())
    spec.write_text(f"name: scale\nbase: {BASE}\nset: {{{settings}}}\nepisodes: {size}\n")
    print(f"sweeping {size:,} episodes into {out} ...", flush=True)
    command = [sys.executable, "-m", "traitors.cli", "sweep", str(spec), "--out", str(out)]
    subprocess.run([*command, "--concurrency", "8"], check=True, stdout=subprocess.DEVNULL)
    if len(shard_index(out)) != size:
        raise SystemExit(f"{out}: the sweep left fewer than {size} packed episodes")
    return out


def analyze(run: Path, source: Path) -> tuple[float, float]:
    """Wall and CPU seconds of ``traitors analyze run`` in a fresh process importing the
    project from ``source``."""
    if (run / ".compact").exists():
        raise SystemExit(f"{run}/.compact exists: analyze would read it, not the shards")
    env = {**os.environ, "PYTHONPATH": str(source)}
    command = [sys.executable, "-m", "traitors.cli", "analyze", str(run), "--format", "json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=source, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"analyze failed:\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="where the sweeps are made and reused")
    parser.add_argument("--full", action="store_true", help="add 100,000 episodes")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size (best is kept)")
    parser.add_argument("--baseline", type=Path, help="another checkout to time beside this one")
    args = parser.parse_args()
    sizes = [SMALL, LARGE] if args.full else [SMALL]
    sources = {"this": ROOT, **({"baseline": args.baseline.resolve()} if args.baseline else {})}
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or Path(tmp)
        runs = {size: make_data(data, size) for size in sizes}
        best: dict[tuple[str, int], tuple[float, float]] = {}
        for size in sizes:
            for _ in range(args.repeat):
                for name, source in sources.items():
                    wall, cpu = analyze(runs[size], source)
                    old = best.get((name, size), (float("inf"), float("inf")))
                    best[name, size] = (min(old[0], wall), min(old[1], cpu))
    table = Table(title="traitors analyze on Parquet shards (scripted 8-player episodes)")
    for column in ("code", "episodes", "wall s", "wall ms/episode", "CPU s", "CPU ms/episode"):
        table.add_column(column, justify="right")
    for (name, size), (wall, cpu) in best.items():
        per = 1000 / size
        table.add_row(
            name, f"{size:,}", f"{wall:.1f}", f"{wall * per:.2f}", f"{cpu:.1f}", f"{cpu * per:.2f}"
        )
    Console().print(table)
    if args.full:
        for name in sources:
            (small, small_cpu), (large, large_cpu) = best[name, SMALL], best[name, LARGE]
            ratio = large / LARGE / (small / SMALL)
            cpu_ratio = large_cpu / LARGE / (small_cpu / SMALL)
            print(
                f"{name}: per-episode cost 100k/10k {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU; "
                f"100k in {large:.1f} s"
            )
    print(f"goals: 100k under {GOAL_SECONDS:.0f} s; per-episode cost flat within 15%")


if __name__ == "__main__":
    main()
