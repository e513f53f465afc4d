"""Analysis speed: the metric suite in polars against a plain Python loop over the JSONL logs.

For scripted sweeps of The Traitors (built here, or reused when complete), times, median of
``--repeat`` runs: what ``traitors analyze`` computes (load + every default table) from the
JSON logs and from the Parquet cache written by ``--compact``; the same tables computed by a
plain Python loop over ``manifest.json`` and ``events.jsonl`` (``benchmarks/analysis_loop.py``,
json and dicts); and the whole ``traitors analyze`` command in a fresh process. Both ways must
give the same tables, value for value, except the leaderboard, which has no loop version
(``NO_LOOP_VERSION``): it is left out of the comparison, and polars is timed twice, computing
the loop's tables (the leaderboard not computed, an empty table in its place) and every
default table; the speed-ups compare the loop with the first. Goals: under 5 s for 200
episodes, and at least 10x faster than the loop. The 20-episode sweep shows the fixed cost
of polars' queries, which small runs cannot hide; the last lines give the cost of each extra
episode between sizes.

    python benchmarks/analysis.py [--out /tmp/traitors_analysis_bench] [--sizes 20 200 2000]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import analysis_loop  # this script's directory is first on sys.path
import polars as pl

# This script is named like the package it measures: drop its directory from the path so that
# ``import analysis`` finds the package, not this file.
HERE = Path(__file__).resolve().parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import analysis  # noqa: E402
import analysis.ratings  # noqa: E402
from analysis.cache import CACHE_DIR  # noqa: E402
from analysis.suite import compute  # noqa: E402
from traitors.store.shards import packed_statuses  # noqa: E402

ROOT = HERE.parent
NO_LOOP_VERSION = {
    "leaderboard": "the OpenSkill and Bradley-Terry leaderboard has no loop version "
    "(tests/test_ratings.py checks it against openskill called directly and against planted "
    "skill gaps)"
}
"""Tables of the suite that the loop does not compute, and why."""
LIKE_FOR_LIKE = "load + every default table but the leaderboard"
CELLS = 4
SWEEP = """\
name: analysis_bench
base: {base}
set: {{agents.default.policy: heuristic}}
grid:
  rules.n_players: [8, 10]
  rules.recruitment: [false, true]
episodes: {per_cell}
seed: 0
"""


def build_sweep(out: Path, episodes: int) -> None:
    """Run (or resume: complete episodes are skipped) a scripted sweep into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    spec = out.parent / f"{out.name}.yaml"
    base = ROOT / "scenarios" / "the_traitors.yaml"
    spec.write_text(SWEEP.format(base=base, per_cell=episodes // CELLS))
    command = [sys.executable, "-m", "traitors.cli", "sweep", str(spec), "--out", str(out)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    loose = {manifest.parent.name for manifest in out.glob("*/manifest.json")}
    complete = len(loose | set(packed_statuses(out)))  # large sweeps pack into shards
    if complete != episodes:
        raise SystemExit(f"{out}: {complete} episodes, expected {episodes}")


def polars_tables(root: Path) -> dict[str, list[dict[str, object]]]:
    """What ``traitors analyze`` computes: load, then every default table."""
    return {t.name: t.frame.to_dicts() for t in compute(analysis.load(root), [], [])}


@contextlib.contextmanager
def without_leaderboard() -> Iterator[None]:
    """Within: the suite computes no leaderboard (an empty table stands in for it), so that
    polars computes what the loop computes."""
    assert set(NO_LOOP_VERSION) == {"leaderboard"}
    real = analysis.ratings.leaderboard
    analysis.ratings.leaderboard = lambda *args, **kwargs: pl.DataFrame()
    try:
        yield
    finally:
        analysis.ratings.leaderboard = real


def loop_tables_in_polars(root: Path) -> dict[str, list[dict[str, object]]]:
    """Load, then every default table but the leaderboard: the loop's tables."""
    with without_leaderboard():
        tables = polars_tables(root)
    assert not tables.pop("leaderboard")
    return tables


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def command_seconds(root: Path, repeat: int) -> float:
    """``traitors analyze ROOT`` in a fresh process: start-up, imports, tables, printing."""
    command = [sys.executable, "-m", "traitors.cli", "analyze", str(root)]
    return median_seconds(
        lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL), repeat
    )


def measure(root: Path, repeat: int) -> list[tuple[str, str, float]]:
    """(computation, source, seconds) rows for one sweep, the loop last."""
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
    polars = polars_tables(root)
    for name in NO_LOOP_VERSION:
        polars.pop(name, None)
    mismatches = analysis_loop.compare(polars, analysis_loop.loop_tables(root))
    if mismatches:
        raise SystemExit(f"{root}: polars and the loop differ:\n" + "\n".join(mismatches[:20]))
    rows = []
    for source in ("JSON", "Parquet"):
        if source == "Parquet":
            analysis.compact(root)
        rows += [
            (
                LIKE_FOR_LIKE,
                source,
                median_seconds(lambda: loop_tables_in_polars(root), repeat),
            ),
            (
                "load + every default table",
                source,
                median_seconds(lambda: polars_tables(root), repeat),
            ),
            ("traitors analyze (new process)", source, command_seconds(root, repeat)),
        ]
    rows.append(
        (
            "plain Python loop: the same tables but the leaderboard",
            "JSON",
            median_seconds(lambda: analysis_loop.loop_tables(root), repeat),
        )
    )
    return rows


def met(goal: bool) -> str:
    return "met" if goal else "NOT met"


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/traitors_analysis_bench"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 200, 2000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if any(size <= 0 or size % CELLS for size in args.sizes):
        parser.error(
            f"--sizes: each size must be a positive multiple of {CELLS} (the sweep's cells)"
        )
    table = Table(title="analysis of scripted episodes of The Traitors: polars vs a Python loop")
    for column in ("episodes", "computation", "from", "seconds", "x faster than the loop"):
        table.add_column(
            column,
            justify="right"
            if column in ("seconds", "x faster than the loop", "episodes")
            else "left",
        )
    verdicts = []
    parquet_and_loop: dict[int, tuple[float, float]] = {}
    for size in args.sizes:
        root = args.out if size == 200 else args.out.with_name(f"{args.out.name}_{size}")
        build_sweep(root, size)
        rows = measure(root, args.repeat)
        loop_seconds = rows[-1][2]
        for name, source, seconds in rows:
            table.add_row(
                str(size), name, source, f"{seconds:.3f}", f"{loop_seconds / seconds:.1f}"
            )
        computed = {source: s for name, source, s in rows if name == LIKE_FOR_LIKE}
        command = max(s for name, _, s in rows if name.startswith("traitors analyze"))
        speedups = {source: loop_seconds / s for source, s in computed.items()}
        parquet_and_loop[size] = (computed["Parquet"], loop_seconds)
        verdicts += [
            f"{size} episodes: traitors analyze took {command:.2f} s at most"
            + (f" (goal under 5 s: {met(command < 5)})" if size == 200 else ""),
            f"  polars vs the loop: {speedups['Parquet']:.1f}x from Parquet,"
            f" {speedups['JSON']:.1f}x from JSON (goal 10x: {met(max(speedups.values()) >= 10)})",
        ]
    Console(width=120).print(table)
    print("same tables both ways, value for value, at every size, but:")
    for name, why in NO_LOOP_VERSION.items():
        print(f"  left out: {name}: {why}")
    print(f"speed-ups (and the per-episode costs below): '{LIKE_FOR_LIKE}' against the loop")
    print("\n".join(verdicts))
    for line in marginal_costs(parquet_and_loop):
        print(line)


def marginal_costs(seconds: dict[int, tuple[float, float]]) -> list[str]:
    """Per extra episode between consecutive sizes: polars (Parquet) against the loop. Apart
    from polars' fixed cost per query, this is the ratio a larger run tends to."""
    sizes = sorted(seconds)
    lines = []
    for small, large in itertools.pairwise(sizes):
        (polars_small, loop_small), (polars_large, loop_large) = seconds[small], seconds[large]
        polars_ms = (polars_large - polars_small) / (large - small) * 1000
        loop_ms = (loop_large - loop_small) / (large - small) * 1000
        ratio = f"{loop_ms / polars_ms:.1f}x" if polars_ms > 0 else "polars within noise"
        lines.append(
            f"per extra episode, {small} to {large}: polars {polars_ms:.3f} ms,"
            f" the loop {loop_ms:.3f} ms ({ratio})"
        )
    return lines


if __name__ == "__main__":
    main()
