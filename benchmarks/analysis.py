"""Analysis speed: the metric suite in polars against a plain Python loop over the JSONL logs.

Builds (or reuses) a 200-episode scripted sweep of The Traitors, then times, median of
``--repeat`` runs each: ``traitors analyze``'s computation (load + every default metric group)
from the JSON logs and from the Parquet cache written by ``--compact``; the groups holding a
representative set of metrics (outcome win rates, misdirected banishment rate, vote entropy,
Brier score of the faithful's beliefs, the paper's TAS and FCR); the same set computed by a plain
Python loop over ``manifest.json`` and ``events.jsonl`` (json and dicts, written here); and the
whole ``traitors analyze`` command in a fresh process. Both ways must give the same values.
Goals: under 5 s for 200 episodes, and at least 10x faster than the loop.

    python benchmarks/analysis.py [--out /tmp/traitors_analysis_bench] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# This script is named like the package it measures: drop its directory from the path so that
# ``import analysis`` finds the package, not this file.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import analysis  # noqa: E402
from analysis import deception, inference, outcome, paper, trust  # noqa: E402
from analysis.cache import CACHE_DIR  # noqa: E402
from analysis.suite import compute  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EPISODES = 200
SWEEP = f"""\
name: analysis_bench
base: {ROOT / "scenarios" / "the_traitors.yaml"}
set: {{agents.default.policy: heuristic}}
grid:
  rules.n_players: [8, 10]
  rules.recruitment: [false, true]
episodes: {EPISODES // 4}
seed: 0
"""
TRAITOR, FAITHFUL = "traitor", "faithful"
Metrics = dict[str, Any]
"""Metric name -> value (a float, or None when undefined)."""


# --- the sweep ------------------------------------------------------------------------------


def build_sweep(out: Path) -> None:
    """Run (or resume: complete episodes are skipped) the scripted sweep into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    spec = out.parent / f"{out.name}.yaml"
    spec.write_text(SWEEP)
    command = [sys.executable, "-m", "traitors.cli", "sweep", str(spec), "--out", str(out)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    complete = sum(1 for _ in out.glob("*/manifest.json"))
    if complete != EPISODES:
        raise SystemExit(f"{out}: {complete} episodes, expected {EPISODES}")


# --- polars ---------------------------------------------------------------------------------


def polars_suite(root: Path) -> None:
    """What ``traitors analyze`` computes: load, then every default metric group."""
    compute(analysis.load(root), [], [])


def polars_set(root: Path) -> Metrics:
    """The representative set through the analysis package (whole groups: a superset)."""
    data = analysis.load(root)
    wins = outcome.win_rates(data, []).row(0, named=True)
    papers = paper.per_episode(data)
    return {
        "faithful_win_rate": wins["faithful_win_rate"],
        "traitors_win_rate": wins["traitors_win_rate"],
        "misdirected_banish_rate": deception.per_episode(data)["misdirected_banish_rate"].mean(),
        "vote_entropy": trust.per_episode(data)["vote_entropy"].mean(),
        "brier": inference.per_episode(data)["brier"].mean(),
        "TAS": papers["TAS"].mean(),
        "FCR": papers["FCR"].mean(),
    }


# --- the plain Python loop ------------------------------------------------------------------


def loop_set(root: Path) -> Metrics:
    """The representative set from the JSON files, one episode at a time, with dicts."""
    per_episode = []
    for manifest_path in sorted(root.glob("*/manifest.json")):
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("status") != "complete":
            continue
        with (manifest_path.parent / "events.jsonl").open() as lines:
            events = [json.loads(line) for line in lines]
        per_episode.append(episode_metrics(manifest["outcome"]["winner"], events))
    n = len(per_episode)
    return {
        "faithful_win_rate": sum(e["winner"] == "faithful" for e in per_episode) / n,
        "traitors_win_rate": sum(e["winner"] == "traitors" for e in per_episode) / n,
        **{
            name: _mean(e[name] for e in per_episode)
            for name in ("misdirected_banish_rate", "vote_entropy", "brier", "TAS", "FCR")
        },
    }


def episode_metrics(winner: str | None, events: list[dict[str, Any]]) -> dict[str, Any]:
    """One episode's metrics; every item gets the roles its players held at that moment."""
    role: dict[str, str] = {}
    banished: list[str] = []  # roles of the banished players
    removed: dict[tuple[int, str], str] = {}  # (round of the vote, banish|murder) -> player
    ballots: list[dict[str, Any]] = []
    decided: dict[tuple[int, str, int], str | None] = {}
    beliefs: dict[tuple[int, str], dict[str, Any]] = {}  # (round, observer) -> last report
    for event in events:
        kind = event["kind"]
        if kind == "role":
            role[event["player"]] = event["role"]
        elif kind == "vote":
            voter, target = event["actor"], event["target"]
            ballots.append(
                {**event, "voter_role": role.get(voter), "target_role": role.get(target)}
            )
        elif kind == "vote_result":
            decided[(event["round"], event["purpose"], event["ballot"])] = event["decided"]
        elif kind == "banish":
            banished.append(role[event["target"]])
            removed[(event["round"], "banish")] = event["target"]
        elif kind == "murder":
            removed[(event["round"] - 1, "murder")] = event["target"]
        elif kind == "belief":
            truths = {t: role.get(t) == TRAITOR for t in event["probs"] if t in role}
            beliefs[(event["round"], event["actor"])] = {
                "observer_role": role.get(event["actor"]),
                "pairs": [(p, truths[t]) for t, p in event["probs"].items() if t in truths],
            }
    return {
        "winner": winner,
        "misdirected_banish_rate": _mean(r == FAITHFUL for r in banished),
        "vote_entropy": _vote_entropy(ballots),
        "brier": _brier(beliefs.values()),
        **_tas_fcr(ballots, decided, removed),
    }


def _vote_entropy(ballots: list[dict[str, Any]]) -> float | None:
    """Mean over rounds of the entropy (bits) of the first banishment ballot's targets."""
    rounds: dict[int, Counter[str]] = defaultdict(Counter)
    for b in ballots:
        if b["purpose"] == "banish" and b["ballot"] == 0 and b["target"] is not None:
            rounds[b["round"]][b["target"]] += 1
    return _mean(
        -sum(
            c / sum(counts.values()) * math.log2(c / sum(counts.values())) for c in counts.values()
        )
        for counts in rounds.values()
    )


def _brier(reports: Iterable[dict[str, Any]]) -> float | None:
    """Mean (p - y)^2 over the faithful observers' last report of each round."""
    return _mean(
        (p - truth) ** 2
        for report in reports
        if report["observer_role"] == FAITHFUL
        for p, truth in report["pairs"]
    )


def _tas_fcr(
    ballots: list[dict[str, Any]],
    decided: dict[tuple[int, str, int], str | None],
    removed: dict[tuple[int, str], str],
) -> dict[str, float | None]:
    """The paper's TAS and FCR from its vote table: the deciding ballot of each phase that
    removed someone."""
    rows = [
        b
        for b in ballots
        if b["purpose"] in ("banish", "murder")
        and decided.get((b["round"], b["purpose"], b["ballot"])) is not None
        and (b["round"], b["purpose"]) in removed
    ]
    traitors = {b["actor"] for b in rows if b["voter_role"] == TRAITOR}
    night: dict[int, list[str | None]] = defaultdict(list)
    day: dict[int, list[bool]] = defaultdict(list)
    for b in rows:
        if b["purpose"] == "murder":
            night[b["round"]].append(b["target"])
        elif b["voter_role"] == FAITHFUL:
            day[b["round"]].append(b["target"] in traitors)
    agreement = []
    for targets in night.values():
        named = Counter(t for t in targets if t is not None)
        agreement.append(max(named.values()) / len(targets) if named else None)
    return {
        "TAS": _mean(a for a in agreement if a is not None),
        "FCR": _mean(_mean(hits) for hits in day.values()),
    }


def _mean(values: Iterable[float | bool | None]) -> float | None:
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


# --- timing ---------------------------------------------------------------------------------


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


def check_equal(fast: Metrics, slow: Metrics) -> None:
    for name, value in slow.items():
        both_null = fast[name] is None and value is None
        if not both_null and not math.isclose(fast[name], value, rel_tol=1e-9, abs_tol=1e-12):
            raise SystemExit(f"{name}: polars {fast[name]!r} != loop {value!r}")


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/traitors_analysis_bench"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root, repeat = args.out, args.repeat
    build_sweep(root)
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
    values = polars_set(root)
    check_equal(values, loop_set(root))
    loop = median_seconds(lambda: loop_set(root), repeat)
    rows: list[tuple[str, str, float]] = []
    compact = 0.0
    for source in ("JSON", "Parquet"):
        if source == "Parquet":
            compact = median_seconds(lambda: analysis.compact(root), 1)
        rows += [
            (
                "load + every default group",
                source,
                median_seconds(lambda: polars_suite(root), repeat),
            ),
            (
                "load + groups holding the set",
                source,
                median_seconds(lambda: polars_set(root), repeat),
            ),
            ("traitors analyze (new process)", source, command_seconds(root, repeat)),
        ]
    rows.append(("plain Python loop: the set", "JSON", loop))
    table = Table(title=f"analysis: {EPISODES} scripted episodes of The Traitors ({root})")
    for column in ("computation", "from", "seconds", "x faster than the loop"):
        table.add_column(column, justify="left" if column in ("computation", "from") else "right")
    for name, source, seconds in rows:
        table.add_row(name, source, f"{seconds:.3f}", f"{loop / seconds:.1f}")
    Console().print(table)
    print(f"--compact (writing the Parquet cache) took {compact:.3f} s")
    shown = ", ".join(f"{k} {'-' if v is None else f'{v:.4f}'}" for k, v in values.items())
    print(f"same values both ways: {shown}")
    slowest = max(seconds for name, _, seconds in rows if name.startswith("traitors analyze"))
    fastest = min(seconds for _, _, seconds in rows[:-1])
    print(f"goal under 5 s for {EPISODES} episodes: {'met' if slowest < 5 else 'NOT met'}")
    print(f"goal at least 10x faster than the loop: {'met' if loop / fastest >= 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
