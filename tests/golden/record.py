"""Record (or check) the golden episode logs: fixed specs and seeds of every shipped game.

``python tests/golden/record.py`` rewrites ``tests/golden/logs.json``; only do that on purpose,
when a change is meant to alter what the games log (``--only llm-fake`` re-records those cases
alone). ``tests/test_golden_logs.py`` replays the same cases and compares each episode id and
the SHA-256 of its ``events.jsonl``.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).with_name("logs.json")
SEEDS = (0, 1, 2)
CASES: dict[str, tuple[str, list[str]]] = {
    "the_traitors-heuristic": ("the_traitors.yaml", ["agents.default.policy=heuristic"]),
    "the_traitors-random": ("the_traitors.yaml", ["agents.default.policy=random"]),
    "the_traitors-llm-fake": (
        "the_traitors.yaml",
        [
            "agents.default.policy=llm",
            "agents.default.model=fake/random",
            "rules.n_players=6",
            "rules.n_traitors=2",
            "rules.max_rounds=3",
        ],
    ),
    "werewolf-heuristic": (
        "werewolf.yaml",
        ["agents.default.policy=heuristic", "rules.belief_probe=true"],
    ),
    "werewolf-random": (
        "werewolf.yaml",
        ["agents.default.policy=random", "rules.exile_rule=plurality"],
    ),
    "werewolf-llm-fake": (
        "werewolf.yaml",
        [
            "agents.default.policy=llm",
            "agents.default.model=fake/random",
            "rules.max_rounds=3",
            "rules.debate_turns=3",
            "rules.belief_probe=true",
        ],
    ),
    "avalon-heuristic": ("avalon.yaml", ["agents.default.policy=heuristic"]),
    "avalon-random": ("avalon.yaml", ["agents.default.policy=random", "rules.n_players=5"]),
    "avalon-llm-fake": (
        "avalon.yaml",
        ["agents.default.policy=llm", "agents.default.model=fake/random", "rules.n_players=5"],
    ),
    "principal_agent-heuristic": (
        "principal_agent.yaml",
        [
            "agents.default.policy=heuristic",
            "agents.assistant.policy=heuristic",
            "rules.questions=2",
        ],
    ),
    "principal_agent-random": (
        "principal_agent.yaml",
        ["agents.default.policy=random", "agents.assistant.policy=random"],
    ),
}


def play(case: str, out: Path) -> dict[str, dict[str, str]]:
    """Play one case's seeds into ``out``: seed -> episode id and log digest."""
    from traitors.episode.spec import load_spec
    from traitors.sweep.episodes import run_episodes

    name, overrides = CASES[case]
    spec = load_spec(ROOT / "scenarios" / name, overrides)
    found = {}
    for summary in run_episodes(spec, SEEDS, out / case):
        digest = hashlib.sha256((summary.dir / "events.jsonl").read_bytes()).hexdigest()
        found[str(summary.seed)] = {"episode": summary.episode_id, "sha256": digest}
    return found


def main() -> None:
    """``record.py`` re-records every case; ``record.py --only llm-fake`` only the cases
    whose names hold ``llm-fake`` (say, after a prompt change: fake models answer from the
    prompt), keeping the others as recorded."""
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else ""
    golden = json.loads(GOLDEN.read_text()) if only else {}
    with tempfile.TemporaryDirectory() as tmp:
        golden |= {case: play(case, Path(tmp)) for case in CASES if only in case}
    GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}: {sum(len(v) for v in golden.values())} episodes", file=sys.stderr)


if __name__ == "__main__":
    main()
