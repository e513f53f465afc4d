"""Kaggle's side of the parity benchmark: plays Werewolf games with Kaggle's built-in
``random`` agents and prints one JSON line per game with the stats the benchmark compares.

Runs in a virtual environment holding ``kaggle-environments`` (never the project's); it
imports only that package and the standard library. ``benchmarks/kaggle_parity.py`` starts
it and sends the job as JSON on stdin:

    {"configs": {"standard": {...game_config...}}, "games": 500, "base_seed": 0, "jobs": 1}

Each output line is ``{"config": name, "game": i, ...stats}``, or ``{"config": name,
"error": "..."}`` once when a config cannot run (its games are then skipped).

    python benchmarks/kaggle_side.py --where   # the rule_experiment configs' directory
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import random
import sys
from collections import Counter
from contextlib import nullcontext
from typing import Any, TextIO

RULE_EXPERIMENTS = ("scripts", "configs", "run", "rule_experiment")
PLAYERS = 8
ABSTAIN = "-1"


def rule_experiment_dir() -> str:
    """Where the installed package keeps its rule_experiment YAMLs."""
    from kaggle_environments.envs import werewolf  # type: ignore[import-not-found]

    return os.path.join(os.path.dirname(werewolf.__file__), *RULE_EXPERIMENTS)


def moderator_records(info: dict[str, Any]) -> list[dict[str, Any]]:
    """Every moderator record of a played game, in order, its JSON payload decoded."""
    records = []
    for step in info.get("MODERATOR_OBSERVATION", []):
        for record in step:
            entry = json.loads(record["json_str"])
            entry["data_type"] = record["data_type"]
            records.append(entry)
    return records


def night_stats(records: list[dict[str, Any]], night: int) -> dict[str, Any]:
    """What happened on one night: the wolves' votes, their target, the doctor's pick, a save."""
    mine = [r for r in records if r["day"] == night and r["phase"] == "Night"]
    votes = [r["data"]["target_id"] for r in mine if r["data_type"] == "WerewolfNightVoteDataEntry"]
    elected = [r for r in mine if r["data_type"] == "WerewolfNightEliminationElectedDataEntry"]
    target = elected[0]["data"]["elected_target_player_id"] if elected else None
    heals = [r["data"] for r in mine if r["data_type"] == "DoctorHealActionDataEntry"]
    requests = [r["data"] for r in mine if r["data_type"] == "RequestWerewolfVotingDataEntry"]
    wolves = len(requests[0]["alive_werewolve_player_ids"]) if requests else 0
    villagers = len(requests[0]["valid_targets"]) if requests else 0
    counts = Counter(v for v in votes if v != ABSTAIN)
    top = max(counts.values(), default=0)
    return {
        "night": night,
        "concluded": bool(elected),
        "wolf_votes": len(votes),
        "wolf_abstains": sum(v == ABSTAIN for v in votes),
        "tie": sum(c == top for c in counts.values()) > 1,
        "target": target is not None,
        "saved": any(r["data_type"] == "DoctorSaveDataEntry" for r in mine),
        "killed": any(r["data_type"] == "WerewolfNightEliminationDataEntry" for r in mine),
        "wolves_alive": wolves,
        "villagers_alive": villagers,
        "doctor_asked": any(r["data_type"] == "RequestDoctorSaveDataEntry" for r in mine),
        "healed": bool(heals),
        "heal_target": heals[0]["target_id"] if heals else None,
        "heal_options": next(
            (
                r["data"]["valid_candidates"]
                for r in mine
                if r["data_type"] == "RequestDoctorSaveDataEntry"
            ),
            None,
        ),
        "wolf_targets": votes,
        "elected": target,
        "doctor_self": any(h["target_id"] == h["actor_id"] for h in heals),
        "doctor_on_wolf_target": bool(heals) and heals[0]["target_id"] == target,
    }


def day_stats(records: list[dict[str, Any]], day: int) -> dict[str, Any]:
    """What happened on one day's vote: votes, abstentions, a tie, an exile."""
    mine = [r for r in records if r["day"] == day and r["phase"] == "Day"]
    votes = [r["data"]["target_id"] for r in mine if r["data_type"] == "DayExileVoteDataEntry"]
    exiled = any(r["data_type"] == "DayExileElectedDataEntry" for r in mine)
    no_exile = any(
        r["event_name"] == "vote_result" and (r.get("data") or {}).get("outcome") == "no_exile"
        for r in mine
    )
    counts = Counter(v for v in votes if v != ABSTAIN)
    top = max(counts.values(), default=0)
    return {
        "day": day,
        "voted": exiled or no_exile,
        "votes": len(votes),
        "abstains": sum(v == ABSTAIN for v in votes),
        "tie": sum(c == top for c in counts.values()) > 1,
        "exiled": exiled,
    }


def game_stats(info: dict[str, Any]) -> dict[str, Any]:
    """One game's stats from the environment's ``info``."""
    end = info.get("GAME_END", {})
    records = moderator_records(info)
    last_day = int(end.get("last_day", max((r["day"] for r in records), default=0)))
    nights = [night_stats(records, n) for n in range(last_day + 1)]
    days = [day_stats(records, d) for d in range(1, last_day + 1)]
    winner = {"Villagers": "villagers", "Werewolves": "werewolves"}.get(end.get("winner_team"))
    return {
        "winner": winner,
        "last_day": last_day,
        "agent_error": bool(end.get("terminated_with_agent_error")),
        "errors": sum(r["event_name"] == "error" for r in records),
        "nights": [n for n in nights if n["concluded"]],
        "days": [d for d in days if d["voted"]],
    }


def play(game_config: dict[str, Any], seed: int) -> dict[str, Any]:
    """One game with 8 random agents; Python's global ``random`` and the config seeded."""
    from kaggle_environments import make  # type: ignore[import-not-found]

    random.seed(seed)
    env = make("werewolf", debug=True, configuration={**game_config, "seed": seed})
    env.run(["random"] * PLAYERS)
    return game_stats(env.info)


def play_one(task: tuple[str, dict[str, Any], int, int]) -> dict[str, Any]:
    """One game of a job as its output line (an ``error`` line when the config cannot run)."""
    name, game_config, game, seed = task
    try:
        return {"config": name, "game": game, **play(game_config, seed)}
    except Exception as error:  # the config cannot run on this Python: say so
        return {"config": name, "error": f"{type(error).__name__}: {error}"}


def run_job(job: dict[str, Any], out: TextIO) -> None:
    """Play every config's games (``jobs`` processes at once), one JSON line each, in order;
    a config that fails is reported once and its other games are left out."""
    base, games = int(job.get("base_seed", 0)), int(job["games"])
    tasks = [
        (name, game_config, i, base + i)
        for name, game_config in job["configs"].items()
        for i in range(games)
    ]
    jobs = max(1, int(job.get("jobs", 1)))
    failed: set[str] = set()
    with multiprocessing.Pool(jobs) if jobs > 1 else nullcontext() as pool:
        lines = pool.imap(play_one, tasks) if pool else map(play_one, tasks)
        for line in lines:
            if line["config"] in failed:
                continue
            if "error" in line:
                failed.add(line["config"])
            out.write(json.dumps(line) + "\n")
            out.flush()


def main() -> None:
    out = sys.stdout
    sys.stdout = sys.stderr  # the engine's own prints must not mix with the JSON lines
    logging.disable(logging.CRITICAL)
    if "--where" in sys.argv[1:]:
        out.write(rule_experiment_dir() + "\n")
        return
    run_job(json.load(sys.stdin), out)


if __name__ == "__main__":
    main()
