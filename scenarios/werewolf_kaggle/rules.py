"""A Kaggle Werewolf replay's rule configuration as Werewolf's rule options, and the preset
(``scenarios/werewolf_kaggle_*.yaml``) whose rules they are, if any.

Kaggle's protocols take their defaults as its engine does (kaggle-environments 1.33.2): a
protocol's registered defaults, then its constructor's. Round-robin discussion: 2 rounds
from a rotating first speaker; sequential voting: a rotating first voter, random tie-break;
the doctor may not save themself but may save the same player twice running; the seer
learns roles; deaths and exiles reveal the role.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from scenarios.werewolf import DOCTOR, SEER, WEREWOLF, WerewolfConfig
from scenarios.werewolf_kaggle.table import Table
from traitors.store.imported import BadReplay
from traitors.util.specfile import read_mapping

PRESETS = ("werewolf_kaggle_standard.yaml", "werewolf_kaggle_balanced.yaml")
"""The presets an imported game's rules are matched against (in ``scenarios/``)."""
MAX_ROUNDS = 30
"""The round limit written for Kaggle's games, which have none (its 1,000-step cap is about
30 days); raised when a game ran longer."""

ORDERS = ("fixed", "rotate", "random")
REVEALS = {"role": "role", "team": "team", "no_reveal": "nothing"}
TIES = {"random": "random", "no_elected": "nobody"}


def rules_from(configuration: Mapping[str, Any], table: Table, rounds: int) -> dict[str, Any]:
    """Werewolf's rule options for a game played under ``configuration`` at ``table`` over
    ``rounds`` rounds; BadReplay for a rule Werewolf cannot express."""
    roles = list(table.roles.values())
    rules: dict[str, Any] = {
        "n_players": len(roles),
        "n_werewolves": roles.count(WEREWOLF),
        "seer": SEER in roles,
        "doctor": DOCTOR in roles,
        "doctor_learns_save": True,
        "werewolf_talk": False,
        "exile_rule": "plurality",
        "max_rounds": max(MAX_ROUNDS, rounds),
        **_discussion(configuration.get("discussion_protocol")),
        **_voting(configuration.get("day_voting_protocol"), "voting", "first_voter", "exile_tie"),
        **_voting(
            configuration.get("werewolf_night_vote_protocol"),
            "wolf_voting",
            "first_wolf",
            "kill_tie",
        ),
        "exile_reveals": _reveal(configuration, "day_exile_reveal_level"),
        "death_reveals": _reveal(configuration, "night_elimination_reveal_level"),
        **_role_params(configuration),
    }
    try:
        WerewolfConfig.model_validate(rules)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise BadReplay(
            f"a table of {rules['n_players']} players with {rules['n_werewolves']} werewolves "
            f"does not fit Werewolf's rules: {where + ': ' if where else ''}{problem['msg']}"
        ) from None
    return rules


def _protocol(config: Any, default: str) -> tuple[str, dict[str, Any]]:
    if not isinstance(config, Mapping):
        return default, {}
    params = config.get("params")
    return str(config.get("name", default)), dict(params) if isinstance(params, Mapping) else {}


def _order(value: Any, what: str) -> str:
    if value not in ORDERS:
        raise BadReplay(f"unknown {what} {value!r}")
    return str(value)


def _discussion(config: Any) -> dict[str, Any]:
    name, params = _protocol(config, "RoundRobinDiscussion")
    if name == "RoundRobinDiscussion":
        return {
            "discussion": "round_robin",
            "discussion_rounds": int(params.get("max_rounds", 2)),
            "first_speaker": _order(params.get("first_to_speak", "rotate"), "first_to_speak"),
        }
    if name == "TurnByTurnBiddingDiscussion":
        return {"discussion": "bidding", "debate_turns": int(params.get("max_turns", 8))}
    raise BadReplay(f"discussion protocol {name!r} has no Werewolf rule option")


def _voting(config: Any, how: str, first: str, tie: str) -> dict[str, Any]:
    name, params = _protocol(config, "SimultaneousMajority")
    tie_break = params.get("tie_break", "random")
    if tie_break not in TIES:
        raise BadReplay(f"unknown tie_break {tie_break!r}")
    if name == "SequentialVoting":
        order = _order(params.get("first_to_vote", "rotate"), "first_to_vote")
        return {how: "sequential", first: order, tie: TIES[tie_break]}
    if name == "SimultaneousMajority":
        return {how: "simultaneous", tie: TIES[tie_break]}
    raise BadReplay(f"voting protocol {name!r} has no Werewolf rule option")


def _reveal(configuration: Mapping[str, Any], key: str) -> str:
    level = configuration.get(key, "role")
    if level not in REVEALS:
        raise BadReplay(f"unknown {key} {level!r}")
    return REVEALS[level]


def _role_params(configuration: Mapping[str, Any]) -> dict[str, Any]:
    """The doctor's and the seer's options (each role's ``role_params`` travel with the
    role when roles are randomized, so the configuration's are the true ones)."""
    params: dict[str, dict[str, Any]] = {}
    for agent in configuration.get("agents") or ():
        if isinstance(agent, Mapping) and isinstance(agent.get("role_params"), Mapping):
            params.setdefault(str(agent.get("role")), dict(agent["role_params"]))
    doctor, seer = params.get("Doctor", {}), params.get("Seer", {})
    seer_learns = seer.get("reveal_level", "role")
    if seer_learns not in ("role", "team"):
        raise BadReplay(f"unknown seer reveal_level {seer_learns!r}")
    return {
        "doctor_self_protect": bool(doctor.get("allow_self_save", False)),
        "doctor_repeat": bool(doctor.get("allow_consecutive_saves", True)),
        "seer_learns": seer_learns,
    }


SCENARIOS = Path(__file__).resolve().parent.parent
"""Where the presets are."""


def preset_name(rules: Mapping[str, Any], directory: Path = SCENARIOS) -> str | None:
    """The name of the preset whose rules ``rules`` are (every option compared after
    validation), or None."""
    ours = WerewolfConfig.model_validate(rules).model_dump()
    return next((name for name, theirs in _presets(directory) if theirs == ours), None)


@functools.cache
def _presets(directory: Path) -> tuple[tuple[str, dict[str, Any]], ...]:
    """Each preset found in ``directory``: its name and its validated rules (read once)."""
    found = []
    for file in PRESETS:
        path = directory / file
        if path.is_file():
            preset = read_mapping(path)
            rules = WerewolfConfig.model_validate(preset.get("rules") or {}).model_dump()
            found.append((str(preset.get("name") or path.stem), rules))
    return tuple(found)
