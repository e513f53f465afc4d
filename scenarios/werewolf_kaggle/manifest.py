"""The manifest of an imported Kaggle Werewolf game: the spec its rules make, the seats and
their true roles and agents, tokens and cost per seat, the outcome, and where it came from.

The spec is what restores the game in our engine: its rules add the deal (the true roles in
seat order), Kaggle's random draws and a speech limit that fits the longest speech; its
seats are played by the policy ``imported`` (played elsewhere: replays and forks play them
from the log).

Its episode id is a hash of the source episode (Kaggle's id when the replay has one), so
importing a file twice gives the same id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from scenarios.werewolf import WORDS, WerewolfConfig
from scenarios.werewolf_kaggle.events import AGENT_ERROR, Translator
from scenarios.werewolf_kaggle.table import IMPORTED, Table
from traitors.episode.spec import validate_spec
from traitors.store.manifest import Manifest, OutcomeRecord, SeatHealth, SourceRecord

FORMAT = "kaggle-werewolf"
"""The importer's name (entry point ``traitors.importers``)."""
NAME = "kaggle-werewolf"
"""The spec name of an imported game whose rules match no preset."""


def episode_id(replay: Mapping[str, Any]) -> str:
    """A stable id for the source episode: from Kaggle's episode id, or else from the
    replay's configuration and records."""
    kaggle_id = replay.get("id")
    if isinstance(kaggle_id, str) and kaggle_id:
        body = json.dumps({"format": FORMAT, "id": kaggle_id}, sort_keys=True)
    else:
        keys = ("configuration", "info", "rewards")
        parts = {k: replay.get(k) for k in keys}
        body = json.dumps({"format": FORMAT, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def build_manifest(
    replay: Mapping[str, Any],
    source: str,
    table: Table,
    rules: dict[str, Any],
    preset: str | None,
    game: Translator,
    agent_error: bool,
    times: tuple[float, float],
) -> Manifest:
    """The manifest of one imported game."""
    spec = validate_spec(
        {
            "name": preset or NAME,
            "scenario": "werewolf",
            "players": list(table.players),
            "rules": restorable(rules, table, game),
            "agents": {"default": {"policy": IMPORTED}},
        },
        source=source,
    )
    over = game.over
    assert over is not None
    total = SeatHealth()
    for seat, usage in game.usage.seats.items():
        game.health[seat].calls = int(usage["calls"])
    for health in game.health.values():
        total.add(health)
    kaggle_id = replay.get("id")
    renamed = {kaggle: ours for kaggle, ours in table.names.items() if kaggle != ours}
    details: dict[str, Any] = {
        "configuration_seed": (replay.get("configuration") or {}).get("seed")
    }
    if renamed:
        details["player_ids"] = renamed
    if preset:
        details["preset"] = preset
    return Manifest(
        episode_id=episode_id(replay),
        name=spec.name,
        scenario="werewolf",
        seed=0,
        spec=spec.model_dump(mode="json"),
        players=list(table.players),
        roles=dict(table.roles),
        final_roles=dict(table.roles),
        words=WORDS.model_dump(mode="json"),
        agents={seat: dict(agent) for seat, agent in table.agents.items()},
        status="degraded" if agent_error else "complete",
        status_reason=AGENT_ERROR if agent_error else None,
        outcome=OutcomeRecord(winner=over.winner, reason=over.reason, rounds=over.round),
        health=game.health,
        health_total=total,
        usage=game.usage.total(),
        seat_usage=game.usage.seats,
        started_at=times[0],
        finished_at=times[1],
        source=SourceRecord(
            format=FORMAT,
            file=source,
            episode=kaggle_id if isinstance(kaggle_id, str) else None,
            details=details,
        ),
    )


def restorable(rules: dict[str, Any], table: Table, game: Translator) -> dict[str, Any]:
    """``rules`` with what restores the game: the deal, the draws, a speech limit."""
    limit = WerewolfConfig.model_fields["max_speech_chars"].default
    return {
        **rules,
        "max_speech_chars": max(limit, game.longest),
        "deal": [table.roles[p] for p in table.players],
        "draws": dict(game.draws),
    }


def record_times(stamps: list[str]) -> tuple[float, float]:
    """When the game started and ended (seconds since the epoch) from the records'
    ``created_at`` (0 when they have none)."""
    seconds = []
    for stamp in (stamps[0], stamps[-1]) if stamps else ():
        try:
            seconds.append(datetime.fromisoformat(stamp).timestamp())
        except (TypeError, ValueError):
            seconds.append(0.0)
    return (seconds[0], seconds[1]) if seconds else (0.0, 0.0)
