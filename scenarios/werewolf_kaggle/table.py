"""Who sat where in a Kaggle Werewolf replay, with their true roles and their agents.

The truth is the game-end record (``info.GAME_END.all_players``, in seat order), never the
configuration: with ``randomize_roles`` or ``randomize_ids`` its roles and ids are
permuted. A game ended by an agent error has no game-end record; its roster then comes from
the game-start announcement, its roles from each player's ``game_start`` record, and its
agents from the configuration (whose agents keep their seats: only roles and ids move).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from scenarios.werewolf import DOCTOR, SEER, VILLAGER, WEREWOLF
from scenarios.werewolf_kaggle.records import Record
from traitors.episode.spec import NAME_PATTERN
from traitors.store.imported import BadReplay

ROLES = {"Werewolf": WEREWOLF, "Seer": SEER, "Doctor": DOCTOR, "Villager": VILLAGER}
"""Kaggle's roles in Werewolf's words."""
TEAMS = {"Villagers": "villagers", "Werewolves": "werewolves"}
"""Kaggle's teams as Werewolf's factions."""
IMPORTED = "imported"
"""The policy named for a seat played elsewhere by a model."""

_NAME: TypeAdapter[str] = TypeAdapter(Annotated[str, Field(pattern=NAME_PATTERN)])


def role(name: object) -> str:
    """Kaggle's role name in our words; BadReplay for a role Werewolf does not have."""
    if name not in ROLES:
        raise BadReplay(f"unknown role {name!r}")
    return ROLES[str(name)]


def team(name: object) -> str:
    """Kaggle's team name as our faction; BadReplay for an unknown team."""
    if name not in TEAMS:
        raise BadReplay(f"unknown team {name!r}")
    return TEAMS[str(name)]


@dataclass(frozen=True)
class Table:
    """The seats of one game."""

    ids: tuple[str, ...]
    """Kaggle's player ids, in seat order."""
    names: Mapping[str, str]
    """Kaggle id -> our player name (the id itself when it is a valid name)."""
    roles: Mapping[str, str]
    """Our player name -> true role, in our words."""
    agents: Mapping[str, dict[str, Any]]
    """Our player name -> what played the seat (``policy``, ``model``, Kaggle's agent id)."""
    configuration: Mapping[str, Any] = field(default_factory=dict)
    """The replay's configuration: the rules the table played by."""

    @property
    def players(self) -> tuple[str, ...]:
        """Our player names, in seat order."""
        return tuple(self.names[i] for i in self.ids)

    def name(self, player_id: object) -> str:
        """Our name of a Kaggle player id; BadReplay for one not at the table."""
        name = self.names.get(str(player_id))
        if name is None:
            raise BadReplay(f"unknown player {player_id!r}")
        return name

    def living(self, dead: Iterable[str], *roles: str) -> tuple[str, ...]:
        """Players not in ``dead`` (holding one of ``roles``, if given), in seat order."""
        gone = set(dead)
        return tuple(
            p for p in self.players if p not in gone and (not roles or self.roles[p] in roles)
        )


def read_table(replay: Mapping[str, Any], records: Sequence[Record]) -> Table:
    """The seats of a replay; BadReplay when it does not say who sat where."""
    config_agents = (replay.get("configuration") or {}).get("agents")
    if not isinstance(config_agents, list) or not config_agents:
        raise BadReplay("not a Werewolf replay: configuration.agents is missing")
    end = (replay.get("info") or {}).get("GAME_END") or {}
    seated = end.get("all_players")
    if isinstance(seated, list) and seated:
        ids = [str(_field(p, "id")) for p in seated]
        kaggle_roles = [_field(_field(p, "agent"), "role") for p in seated]
        agents = [_field(p, "agent") for p in seated]
    else:
        ids, kaggle_roles = _from_records(records)
        agents = config_agents
    if len(ids) != len(config_agents) or len(agents) != len(ids):
        raise BadReplay(
            f"a table of {len(ids)} players, but the configuration seats {len(config_agents)}"
        )
    if len(set(ids)) != len(ids):
        raise BadReplay("two players share an id")
    names = _names(ids)
    return Table(
        ids=tuple(ids),
        names=names,
        roles={names[i]: role(r) for i, r in zip(ids, kaggle_roles, strict=True)},
        agents={names[i]: seat_agent(a) for i, a in zip(ids, agents, strict=True)},
        configuration=replay["configuration"],
    )


def _field(record: Any, key: str) -> Any:
    if not isinstance(record, Mapping) or key not in record:
        raise BadReplay(f"not a Werewolf replay: a player record has no {key!r}")
    return record[key]


def _from_records(records: Sequence[Record]) -> tuple[list[str], list[object]]:
    """The roster of the game-start announcement and each player's dealt role."""
    roster = next((r.data["player_ids"] for r in records if "player_ids" in r.data), None)
    if not isinstance(roster, list):
        raise BadReplay("not a Werewolf replay: it names no players (no game-end record)")
    dealt = {r.data.get("player_id"): r.data.get("role") for r in records if r.name == "game_start"}
    missing = [p for p in roster if p not in dealt]
    if missing:
        raise BadReplay(f"no role dealt to {missing[0]!r}")
    return [str(p) for p in roster], [dealt[p] for p in roster]


def seat_agent(agent: Mapping[str, Any]) -> dict[str, Any]:
    """What played a seat: a model (policy ``imported``), or Kaggle's own agent."""
    agent_id = str(agent.get("agent_id") or "unknown")
    llms = [m.get("model_name") for m in agent.get("llms") or () if isinstance(m, Mapping)]
    models = [str(m) for m in llms if m]
    model = models[0] if models else agent_id.removeprefix("llm/") if "/" in agent_id else None
    settings: dict[str, Any] = {"policy": IMPORTED if model else f"kaggle-{agent_id}"}
    if model:
        settings["model"] = model
    if len(models) > 1:
        settings["models"] = models
    settings["agent_id"] = agent_id
    if agent.get("display_name"):
        settings["display_name"] = str(agent["display_name"])
    return settings


def _names(ids: Sequence[str]) -> dict[str, str]:
    """Kaggle id -> a valid, unique player name (the id itself when it is one)."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for index, player_id in enumerate(ids):
        name = player_id if _valid(player_id) else _cleaned(player_id)
        if not _valid(name):
            name = f"P{index + 1}"
        base, n = name[:29], 2
        while unicodedata.normalize("NFC", name) in taken:
            name, n = f"{base}_{n}", n + 1
        taken.add(unicodedata.normalize("NFC", name))
        names[player_id] = name
    return names


def _valid(name: str) -> bool:
    try:
        _NAME.validate_python(name)
    except ValidationError:
        return False
    return True


def _cleaned(player_id: str) -> str:
    """``player_id`` with every character a name cannot hold made ``_`` (``Player 1`` ->
    ``Player_1``); a leading non-letter gets a ``P`` before it."""
    kept = "".join(c if c.isalnum() or c in "_-" else "_" for c in player_id)[:31]
    if kept and not kept[0].isalpha():
        kept = f"P{kept}"[:32]
    return kept
