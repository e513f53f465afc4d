"""`traitors import kaggle-werewolf` at 1,000 and 10,000 replays: seconds, games/s, ms per
game and peak memory, and the ratio of the per-game cost at 10k to that at 1k (goals: flat,
about 1; memory that does not grow with the count).

The replays are the test fixtures (tests/fixtures/kaggle_werewolf/) copied with new Kaggle
ids, made once under --data in parts of 1,000 (1k imports one part, 10k all ten), plus a few
large ones whose `steps` is padded to about 12 MB (to show it is streamed, not held). Each
import runs in a fresh process into an empty directory (this script with --child), which
reports its wall time, its CPU time and its workers' (user + system), its own peak RSS
(RUSAGE_SELF) and the largest of its workers' (RUSAGE_CHILDREN, once they are joined). CPU
time per game is the steadier measure on a shared machine. Rows: 1k at the default threshold (loose
directories: 1,000 is not past 1,000), 1k and 10k into shards, the 10k import run again
(everything passed over by the journal), and the large replays.

    python benchmarks/kaggle_import.py [--data DIR] [--workers N] [--large 16]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

# benchmarks/analysis.py is named like the package: drop this directory from the path (of
# this process and of the workers it spawns) so that ``import analysis`` finds the package.
HERE = Path(__file__).resolve().parent
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]

ROOT = HERE.parent
FIXTURES = ROOT / "tests" / "fixtures" / "kaggle_werewolf"
PART = 1_000
PARTS = 10
STEPS_BYTES = 12_000_000


def make_data(data: Path, large: int) -> None:
    """The replays under ``data``, made if missing: ``replays/part-NN/`` and ``large/``."""
    fixtures = [json.loads(f.read_text()) for f in sorted(FIXTURES.glob("*.json"))]
    for part in range(PARTS):
        directory = data / "replays" / f"part-{part:02d}"
        if directory.is_dir() and len(list(directory.iterdir())) == PART:
            continue
        temp = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(temp, ignore_errors=True)
        temp.mkdir(parents=True)
        for i in range(PART):
            replay = dict(fixtures[i % len(fixtures)])
            replay["id"] = f"{replay['id']}-p{part}-{i}"
            (temp / f"game-{part:02d}-{i:04d}.json").write_text(json.dumps(replay))
        shutil.rmtree(directory, ignore_errors=True)
        temp.rename(directory)
    directory = data / "large"
    if directory.is_dir() and len(list(directory.iterdir())) == large:
        return
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    for i in range(large):
        replay = dict(fixtures[i % len(fixtures)])
        replay["id"] = f"{replay['id']}-large-{i}"
        step = json.dumps({"observations": replay["steps"][0], "pad": 'x]}\\"{' * 200})
        steps = "[" + ",".join([step] * (STEPS_BYTES // len(step) + 1)) + "]"
        rest = json.dumps({k: v for k, v in replay.items() if k != "steps"})
        (directory / f"large-{i:02d}.json").write_text('{"steps": ' + steps + ", " + rest[1:])


def child(out: Path, paths: list[Path], workers: int, shards_past: int) -> None:
    """Import ``paths`` into ``out`` in this process; print one JSON line of measures."""
    from scenarios.werewolf_kaggle import IMPORTER
    from traitors.commands.import_ import import_games

    cpu_before = sum(
        u.ru_utime + u.ru_stime
        for u in (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
    )
    started = time.perf_counter()
    code = import_games(IMPORTER, paths, out, workers, shards_past, "")
    seconds = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers_use = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(u.ru_utime + u.ru_stime for u in (own, workers_use)) - cpu_before
    found = {"code": code, "seconds": seconds, "cpu": cpu}
    print(
        json.dumps({**found, "own": own.ru_maxrss / 1024, "workers": workers_use.ru_maxrss / 1024})
    )


def measure(
    out: Path, paths: list[Path], workers: int, shards_past: int, fresh: bool = True
) -> dict[str, float]:
    """One import in a fresh process: its measures, and the games it imported."""
    if fresh:
        shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, __file__, "--child", str(out), str(workers), str(shards_past)]
    done = subprocess.run(
        [*command, *map(str, paths)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    lines = done.stdout.strip().splitlines()
    found = json.loads(lines[-1])
    summary = next(line for line in lines if line.startswith("imported "))
    match = re.match(r"imported (\d+) game\(s\).*; (\d+) already there", summary)
    assert match, summary
    found["games"], found["kept"] = int(match.group(1)), int(match.group(2))
    found["shards"] = len(list((out / "shards").glob("shard-*.parquet")))
    found["loose"] = sum(1 for d in out.iterdir() if (d / "manifest.json").is_file())
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/work/kaggle-import-data"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--large", type=int, default=16, help="replays with a 12 MB steps")
    args = parser.parse_args()
    from rich.console import Console
    from rich.table import Table

    make_data(args.data, args.large)
    replays = args.data / "replays"
    runs = [
        ("1,000", "loose", [replays / "part-00"], 1_000, True),
        ("1,000", "shards", [replays / "part-00"], 0, True),
        ("10,000", "shards", [replays], 0, True),
        ("10,000 again", "resumed", [replays], 0, False),
        (f"{args.large} of 12 MB", "loose", [args.data / "large"], 1_000, True),
    ]
    table = Table(title=f"traitors import kaggle-werewolf, {args.workers} workers")
    for column in (
        "replays",
        "stored as",
        "games",
        "seconds",
        "games/s",
        "ms / game",
        "CPU ms / game",
        "importer peak MB",
        "worker peak MB",
    ):
        table.add_column(column, justify="left" if column in ("replays", "stored as") else "right")
    per_game: dict[str, tuple[float, float]] = {}
    for label, storage, paths, shards_past, fresh in runs:
        out = args.data / f"out-{label.split()[0].replace(',', '')}-{storage}"
        if not fresh:
            out = args.data / f"out-{label.split()[0].replace(',', '')}-shards"
        m = measure(out, paths, args.workers, shards_past, fresh)
        games = m["games"] or m["kept"]
        per_game[f"{label} {storage}"] = (m["seconds"] / games, m["cpu"] / games)
        where = f"{storage} ({int(m['shards'])} shards)" if storage == "shards" else storage
        table.add_row(
            label,
            where,
            f"{int(games):,}",
            f"{m['seconds']:.1f}",
            f"{games / m['seconds']:.0f}",
            f"{1000 * m['seconds'] / games:.2f}",
            f"{1000 * m['cpu'] / games:.2f}",
            f"{m['own']:.0f}",
            f"{m['workers']:.0f}" if m["workers"] else "-",  # a resumed import starts none
        )
    Console(width=180).print(table)
    for base in ("1,000 shards", "1,000 loose"):
        wall, cpu = (per_game["10,000 shards"][i] / per_game[base][i] for i in (0, 1))
        print(
            f"per-game cost 10k (shards) / 1k ({base.split()[1]}): {wall:.2f}x wall, {cpu:.2f}x CPU"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        out, workers, shards_past, *paths = sys.argv[2:]
        child(Path(out), [Path(p) for p in paths], int(workers), int(shards_past))
    else:
        main()
