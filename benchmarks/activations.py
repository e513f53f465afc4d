"""What capturing activations costs a local game: the wall time of a small Traitors game
played by the embedded SmolLM2 with and without ``agents.<seat>.activations: true`` (goal:
at most 20% more), each a fresh ``traitors run`` process (model loading included), the
arms alternated, the median of --repeat. Also checks that both arms logged the same events.

    python benchmarks/activations.py [--repeat 3] [--rounds 1] [--seats Alice]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
SPEC = """name: bench
scenario: the_traitors
seed: 5
rules: {{n_players: 6, n_traitors: 2, max_rounds: {rounds}, max_speech_chars: 200}}
agents:
  default: {{policy: llm, model: local/smollm2-135m, max_tokens: 48, memory_events: 8,
             reasoning: false}}
"""


def play(spec: Path, out: Path, overrides: list[str]) -> float:
    """Seconds one ``traitors run`` takes."""
    command = [sys.executable, "-m", "traitors.cli", "run", str(spec), "--out", str(out)]
    command += ["--no-events", *(item for o in overrides for item in ("--set", o))]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seats", nargs="+", default=["Alice"], help="seats that capture")
    args = parser.parse_args()
    arms = {"plain": [], "activations": [f"agents.{s}.activations=true" for s in args.seats]}
    times: dict[str, list[float]] = {arm: [] for arm in arms}
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "bench.yaml"
        spec.write_text(SPEC.format(rounds=args.rounds))
        for i in range(args.repeat):
            for arm, overrides in arms.items():
                times[arm].append(play(spec, Path(tmp) / f"{arm}-{i}", overrides))
        logs = {arm: next(Path(tmp).glob(f"{arm}-0/*/events.jsonl")).read_bytes() for arm in arms}
    base = statistics.median(times["plain"])
    table = Table(title=f"6-player Traitors game, SmolLM2, {args.rounds} round(s), "
                  f"capturing seats: {', '.join(args.seats)}")  # fmt: skip
    for column in ("arm", "runs (s)", "median (s)", "vs plain"):
        table.add_column(column)
    for arm, seconds in times.items():
        median = statistics.median(seconds)
        runs = " ".join(f"{s:.1f}" for s in seconds)
        table.add_row(arm, runs, f"{median:.1f}", f"{median / base - 1:+.1%}")
    Console().print(table)
    print("same events.jsonl in both arms:", logs["plain"] == logs["activations"])


if __name__ == "__main__":
    main()
