"""`traitors dataset` at scale: export time of 1,000 and 10,000 scripted 8-player Traitors
episodes (belief probes on, compacted into Parquet shards), in ms per episode, and the ratio of
the per-episode cost at 10k to that at 1k (goal: flat, about 1).

The runs are made once by `traitors sweep` (which packs them into shards) under --data and
reused; each export is timed in this process after a warm-up (imports and the scenarios'
registry left out), best of --repeat.

    python benchmarks/dataset.py [--data DIR] [--sizes 1000 10000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

# benchmarks/analysis.py is named like the package: drop this directory from the path so that
# ``import analysis`` finds the package.
HERE = Path(__file__).resolve().parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]

from analysis.dataset_export import export  # noqa: E402

ROOT = HERE.parent
BASE = ROOT / "scenarios" / "the_traitors.yaml"
SETTINGS = "{agents.default.policy: heuristic, rules.n_players: 8, rules.n_traitors: 2}"


def make_run(size: int, data: Path) -> Path:
    """The compacted run of ``size`` episodes under ``data``, made by a sweep if missing."""
    out = data / f"episodes-{size}"
    if (out / "sweep.json").is_file() and (out / "shards").is_dir():
        return out
    spec = data / f"sweep-{size}.yaml"
    spec.write_text(f"name: dataset-bench\nbase: {BASE}\nset: {SETTINGS}\nepisodes: {size}\n")
    command = [sys.executable, "-m", "traitors.cli", "sweep", str(spec), "--out", str(out)]
    subprocess.run([*command, "--concurrency", "8"], check=True, capture_output=True, cwd=ROOT)
    subprocess.run(
        [sys.executable, "-m", "traitors.cli", "compact", str(out)], check=True, cwd=ROOT
    )
    return out


def timed_export(run: Path, repeat: int) -> tuple[float, int, int]:
    """Best seconds of ``repeat`` exports of ``run``; its episodes and statements."""
    best = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeat):
            started = time.perf_counter()
            done = export([run], Path(tmp) / "ds")
            best = min(best, time.perf_counter() - started)
    return best, done.rows["episode"].n_unique(), done.rows.height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "dataset-bench")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    runs = {size: make_run(size, args.data) for size in args.sizes}
    timed_export(runs[min(runs)], 1)  # warm-up: imports, the scenarios' registry
    table = Table(title="traitors dataset: export of compacted scripted runs")
    for name in ("episodes", "statements", "export s", "ms / episode", "µs / statement"):
        table.add_column(name, justify="right")
    per_episode = {}
    for size, run in runs.items():
        seconds, episodes, statements = timed_export(run, args.repeat)
        per_episode[size] = seconds / episodes
        table.add_row(
            f"{episodes:,}",
            f"{statements:,}",
            f"{seconds:.2f}",
            f"{1000 * seconds / episodes:.3f}",
            f"{1e6 * seconds / statements:.1f}",
        )
    console = Console()
    console.print(table)
    if len(per_episode) > 1:
        small, large = min(per_episode), max(per_episode)
        ratio = per_episode[large] / per_episode[small]
        console.print(f"per-episode cost {large:,} / {small:,}: {ratio:.2f}x (goal: flat, ~1)")


if __name__ == "__main__":
    main()
