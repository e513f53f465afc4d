"""Engine throughput: scripted 10-player episodes/s and events/s on one core.

Runs the same seeds with and without writing episode directories and prints one table.
Goal: at least 100 episodes/s with logs.

Side by side with a baseline: ``--baseline COMMIT`` (by default the commit before the
episode core, ``fd57ffd``) is extracted with ``git archive`` into a temporary directory, and
each measurement (policy x logs) runs twice, interleaved, in a fresh process pinned to one
core: once importing this checkout ("this"), once importing the baseline (its directory first on
PYTHONPATH, its own scenario file). Each process warms up on 20 episodes first (imports,
registries). ``--baseline none`` measures this checkout only.

    python benchmarks/engine.py [--episodes 300] [--baseline fd57ffd | none]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BEFORE_CORE = "fd57ffd"
"""The last commit before the episode core (f1df309), the README's comparison."""
WARM_UP = 20
CONFIGS = [(policy, logs) for policy in ("heuristic", "random") for logs in (False, True)]
API = {  # where the measured functions live, in this layout and in the one before
    "run_episode": ("traitors.episode.engine", "traitors.engine"),
    "EpisodeWriter": ("traitors.store.log", "traitors.log"),
    "load_spec": ("traitors.episode.spec", "traitors.spec"),
    "with_policy": ("traitors.episode.spec", "traitors.spec"),
}


def imported(source: Path, name: str) -> Any:
    """``name`` from whichever layout the code in ``source`` has (a module missing there is
    not looked for elsewhere: the editable install would find this checkout's)."""
    for module in API[name]:
        if (source / f"{module.replace('.', '/')}.py").is_file():
            return getattr(importlib.import_module(module), name)
    raise SystemExit(f"{source}: none of {API[name]} is there")


def measure(source: Path, policy: str, episodes: int, out: Path | None) -> tuple[float, int]:
    """Seconds and events for ``episodes`` sequential episodes, with the code imported."""
    run_episode, writer_class = imported(source, "run_episode"), imported(source, "EpisodeWriter")
    load_spec, with_policy = imported(source, "load_spec"), imported(source, "with_policy")
    spec = with_policy(load_spec(source / "scenarios" / "the_traitors.yaml"), policy)
    events = 0

    async def play() -> None:
        nonlocal events
        for seed in range(episodes):
            writer = writer_class(out / f"{seed:05d}") if out else None
            result = await run_episode(spec, seed, writer=writer)
            events += len(result.events)

    started = time.perf_counter()
    asyncio.run(play())
    return time.perf_counter() - started, events


def child(source: Path, policy: str, logs: bool, episodes: int) -> None:
    """One measurement in this process (started by :func:`spawn`); prints it as JSON."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    imported_from = Path(sys.modules[imported(source, "run_episode").__module__].__file__ or "")
    if source not in imported_from.parents:
        raise SystemExit(f"imported {imported_from}, not the code in {source}")
    measure(source, "heuristic", WARM_UP, None)
    with tempfile.TemporaryDirectory() as tmp:
        seconds, events = measure(source, policy, episodes, Path(tmp) if logs else None)
    print(json.dumps({"seconds": seconds, "events": events}))


def spawn(source: Path, policy: str, logs: bool, episodes: int) -> dict[str, float]:
    """:func:`child` in a fresh process importing the code in ``source``."""
    command = [sys.executable, __file__, "--child", str(source), "--policy", policy]
    command += ["--episodes", str(episodes), *(["--logs"] if logs else [])]
    env = {**os.environ, "PYTHONPATH": str(source)}
    done = subprocess.run(command, capture_output=True, text=True, cwd=source, env=env)
    if done.returncode != 0:
        raise SystemExit(f"measuring {source} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def extract(commit: str, into: Path) -> Path:
    """The tree of ``commit`` (``git archive``) in ``into``; SystemExit if git cannot."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit], capture_output=True
    )
    if archive.returncode != 0:
        raise SystemExit(
            f"--baseline {commit}: {archive.stderr.decode().strip()} (needs a git checkout "
            "holding that commit; --baseline none measures this checkout only)"
        )
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=300)
    parser.add_argument(
        "--baseline",
        default=BEFORE_CORE,
        help=f"a commit to measure side by side (default {BEFORE_CORE}, the code before the "
        "episode core), or 'none'",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--policy", default="heuristic", help=argparse.SUPPRESS)
    parser.add_argument("--logs", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.policy, args.logs, args.episodes)
        return

    from rich.console import Console
    from rich.table import Table

    with tempfile.TemporaryDirectory() as tmp:
        sources = {"this": ROOT}
        if args.baseline != "none":
            sources[args.baseline] = extract(args.baseline, Path(tmp) / "baseline")
        results = {
            (name, policy, logs): spawn(source, policy, logs, args.episodes)
            for policy, logs in CONFIGS
            for name, source in sources.items()
        }
    table = Table(title=f"engine: {args.episodes} scripted 10-player episodes, one core")
    for column in ("code", "policy", "logs", "episodes/s", "events/s", "ms/episode",
                   "events/episode"):  # fmt: skip
        table.add_column(column, justify="right")
    for (name, policy, logs), got in results.items():
        seconds, events = got["seconds"], got["events"]
        table.add_row(
            name,
            policy,
            "yes" if logs else "no",
            f"{args.episodes / seconds:.0f}",
            f"{events / seconds:.0f}",
            f"{1000 * seconds / args.episodes:.2f}",
            f"{events / args.episodes:.0f}",
        )
    Console(width=110).print(table)
    if len(sources) == 2:
        for policy, logs in CONFIGS:
            now, before = (results[name, policy, logs]["seconds"] for name in sources)
            print(
                f"{policy}, {'with' if logs else 'without'} logs: this code at "
                f"{before / now:.2f}x the episodes/s of {args.baseline}"
            )
    print("each row: a fresh process pinned to one core, after a warm-up of 20 episodes")
    print("goal: >= 100 episodes/s with logs")


if __name__ == "__main__":
    main()
