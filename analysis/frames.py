"""Build the polars frames of a set of episode directories from their JSON logs.

The ``events.jsonl`` lines are tagged with their episode id and parsed in polars, a batch of
episodes at a time (``analysis.log_lines``); the columns are then fixed to one schema,
whatever kinds of event the run happened to hold. The engine's god-only ``act`` records (the
action applied for each decision, kept so that an episode can be restored) are not game
facts: they are dropped before parsing.

Factions come from each manifest's ``words`` (the scenario's own vocabulary): which roles
play for which faction, and which faction is ``hidden`` (the deceiving side). Nothing here
knows any game's names: a game's own event fields and frames come from its analysis plug-in
(``analysis.plugin``), parsed in the same pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from analysis.discover import Discovery, read_json
from analysis.errors import AnalysisError, no_complete_episodes
from analysis.log_lines import parse_logs
from analysis.plugin import Frame, game_analyses, game_frames

FRAME_NAMES = (
    "episodes",
    "players",
    "roles",
    "events",
    "claims",
    "beliefs",
    "calls",
)
"""The frames of every run; the games' own frames follow them (:func:`frame_names`)."""

KEY = pl.Categorical()
"""The dtype of identifiers (episode ids, player names, kinds, phases, roles): they read as
strings, and joins and groupings on them compare small integer codes."""

MODEL_FREE_POLICIES = frozenset({"random", "heuristic", "human"})
"""Built-in policies that never call a model (a spec may still name one for its seats)."""

DECISION_RECORD = '{"kind":"act"'
"""How an ``act`` line starts (the engine writes ``kind`` first, without spaces)."""

WORD_LISTS = ("factions", "hidden_factions", "elimination_causes")
"""Columns of ``episodes`` holding lists of the scenario's words."""

HEALTH = ("decisions", "defaulted", "repaired", "failed_calls")
"""Counts of the manifest's ``health_total`` copied into ``episodes`` (``calls`` comes from
``usage``)."""

ROLE_SCHEMA: dict[str, pl.DataType] = {
    "episode_id": KEY,
    "role": KEY,
    "faction": KEY,
    "hidden": pl.Boolean(),
}
"""One row per role a scenario's words declare, per episode: its faction, and whether that
faction is the hidden (deceiving) side."""

EVENT_SCHEMA: dict[str, pl.DataType] = {
    "episode_id": KEY,
    "seq": pl.Int64(),
    "round": pl.Int64(),
    "phase": KEY,
    "kind": KEY,
    "actor": KEY,
    "visibility": KEY,
    "channel": KEY,
    "player": KEY,
    "role": KEY,
    "target": KEY,
    "purpose": KEY,
    "cause": KEY,
    "ballot": pl.Int64(),
    "decided": KEY,
    "tied": pl.List(KEY),
    "random_pick": pl.Boolean(),
    "alive": pl.List(KEY),
    "text": pl.String(),
    "winner": pl.String(),
    "reason": pl.String(),
    "truncated": pl.Boolean(),
    "error": pl.String(),
}
"""One row per event (``act`` records left out). ``visibility`` is the scope (public,
channel, direct, private, god); ``cause`` is an elimination's, in the scenario's words. The
games' own event columns follow (their plug-ins' ``event_columns``)."""

CLAIM_SCHEMA: dict[str, pl.DataType] = {
    "episode_id": KEY,
    "seq": pl.Int64(),
    "round": pl.Int64(),
    "phase": KEY,
    "actor": KEY,
    "visibility": KEY,
    "claim": KEY,
    "target": KEY,
    "role": KEY,
}
"""One row per structured claim of a speech (accuse / defend: target; claim_role: role)."""

BELIEF_SCHEMA: dict[str, pl.DataType] = {
    "episode_id": KEY,
    "seq": pl.Int64(),
    "round": pl.Int64(),
    "phase": KEY,
    "observer": KEY,
    "target": KEY,
    "p": pl.Float64(),
}
"""One row per (belief event, other player): the observer's private P(target is on the hidden
side), the ``suspect`` of the scenario's words."""

CALL_SCHEMA: dict[str, pl.DataType] = {
    "episode_id": KEY,
    "agent": KEY,
    "index": pl.Int64(),
    "key": pl.String(),
    "model": pl.String(),
    "text": pl.String(),
    "error": pl.String(),
    "prompt_tokens": pl.Int64(),
    "completion_tokens": pl.Int64(),
    "cached_tokens": pl.Int64(),
    "cost": pl.Float64(),
    "cache_saving": pl.Float64(),
    "latency_s": pl.Float64(),
    "attempts": pl.Int64(),
    "started_at": pl.Float64(),
}
"""One row per model call (messages and params are left in ``calls.jsonl``)."""


def _as_read(schema: Mapping[str, pl.DataType]) -> dict[str, pl.DataType]:
    """``schema`` as the JSON holds it: identifiers are text until the frames are built."""
    text = {KEY: pl.String(), pl.List(KEY): pl.List(pl.String())}
    return {name: text.get(dtype, dtype) for name, dtype in schema.items()}


_RAW_EVENT_SCHEMA: dict[str, pl.DataType] = {
    **_as_read({k: v for k, v in EVENT_SCHEMA.items() if k != "episode_id"}),
    "visibility": pl.Struct({"scope": pl.String(), "name": pl.String()}),
    "claims": pl.List(pl.Struct({"kind": pl.String(), "target": pl.String(), "role": pl.String()})),
}
"""The fields of ``events.jsonl`` the engine's frames are built from, as the event models
write them (given, polars parses the lines in one pass instead of two); the games' fields
(:class:`GameFields`) and ``probs`` are added per load."""

_CALL_JSON_SCHEMA: dict[str, pl.DataType] = {
    **_as_read({k: v for k, v in CALL_SCHEMA.items() if not k.endswith("_tokens")}),
    "usage": pl.Struct(
        {"prompt_tokens": pl.Int64(), "completion_tokens": pl.Int64(), "cached_tokens": pl.Int64()}
    ),
}


@dataclass(frozen=True)
class GameFields:
    """What the installed games' plug-ins add to the parsing of ``events.jsonl``."""

    columns: dict[str, pl.DataType]
    """Columns of the ``events`` frame after :data:`EVENT_SCHEMA`'s, typed as there."""
    fields: dict[str, pl.DataType]
    """Every field of their events to parse (their columns' and their frames'), as read."""
    frames: dict[str, Frame]
    """Their frames by name."""

    @classmethod
    def installed(cls) -> GameFields:
        """The fields of every installed or registered game; a field declared twice (or
        parsed by the engine) with two types, or a frame named twice, is an AnalysisError."""
        columns: dict[str, pl.DataType] = {}
        fields: dict[str, pl.DataType] = {}
        owners: dict[str, str] = {}
        for scenario, plugin in game_analyses().items():
            declared = [(name, dtype, True) for name, dtype in plugin.event_columns.items()]
            declared += [
                (name, dtype, False)
                for frame in plugin.frames.values()
                for name, dtype in frame.fields.items()
            ]
            for name, dtype, column in declared:
                read = _as_read({name: dtype})[name]
                known = _RAW_EVENT_SCHEMA.get(name, fields.get(name))
                if known is not None and known != read:
                    owner = owners.get(name, "the engine")
                    raise AnalysisError(
                        f"event field {name!r}: {scenario} reads it as {dtype}, {owner} as {known}"
                    )
                if column and name in EVENT_SCHEMA:
                    raise AnalysisError(
                        f"{scenario} declares the engine's events column {name!r} as its own"
                    )
                if name not in _RAW_EVENT_SCHEMA:
                    owners.setdefault(name, scenario)
                    fields[name] = read
                if column:
                    columns[name] = dtype
        frames = game_frames()
        clash = sorted(set(frames) & set(FRAME_NAMES))
        if clash:
            raise AnalysisError(f"a game declares a frame named like the engine's: {clash[0]!r}")
        return cls(columns, fields, frames)

    def layout(self) -> dict[str, list[str]]:
        """The frames and the ``events`` columns these fields give (a cache built with
        another layout is rebuilt)."""
        return {
            "frames": [*FRAME_NAMES, *self.frames],
            "events": [*EVENT_SCHEMA, *self.columns],
        }


def frame_names() -> tuple[str, ...]:
    """Every frame ``analysis.load`` gives: :data:`FRAME_NAMES`, then the games' own."""
    return (*FRAME_NAMES, *GameFields.installed().frames)


def build_frames(
    discovery: Discovery, include_degraded: bool = True
) -> tuple[dict[str, pl.DataFrame], tuple[str, ...]]:
    """Every frame of :func:`frame_names` for the played episodes found (the complete ones,
    and the degraded ones too when ``include_degraded``), and the directories of the episodes
    left out because a log of theirs is damaged (with any shard that cannot be read)."""
    games = GameFields.installed()
    episodes = [(m["episode_id"], d, m) for d, m in discovery.select(include_degraded)]
    players = sorted({p for _, _, m in episodes for p in m.get("players") or m.get("roles") or ()})
    schemas = (_event_schema(players, games), _CALL_JSON_SCHEMA)
    factors = sweep_factors(discovery.listing.sweeps)
    # The logs are parsed in polars (which releases the GIL) while this thread makes the
    # manifests' rows: on two cores the one hides most of the other.
    with ThreadPoolExecutor(1) as pool:
        parsing = pool.submit(parse_logs, episodes, discovery.sharded, schemas, DECISION_RECORD)
        rows = [manifest_rows(d, m, factors.get(eid, {})) for eid, d, m in episodes]
        events, calls, lines, damaged = parsing.result()
    damaged |= _cut_short(lines, episodes)
    if damaged:
        keep = ~pl.col("episode_id").is_in(sorted(damaged))
        events, calls = events.filter(keep), calls.filter(keep)
    damaged_dirs = tuple(str(d) for eid, d, _ in episodes if eid in damaged)
    damaged_dirs += tuple(str(path) for path in (*discovery.unreadable, *discovery.damaged))
    if len(damaged) == len(episodes):
        degraded = len(discovery.played) - len(episodes)
        root = discovery.listing.root
        raise no_complete_episodes(
            root, degraded, discovery.failed, discovery.incomplete, damaged_dirs
        )
    rows = [row for row, (eid, _, _) in zip(rows, episodes, strict=True) if eid not in damaged]
    return _frames(rows, events, calls, games), damaged_dirs


def _frames(
    rows: list[ManifestRows], events: pl.DataFrame, calls: pl.DataFrame, games: GameFields
) -> dict[str, pl.DataFrame]:
    return {
        "episodes": _keys(
            pl.from_dicts([row.episode for row in rows], infer_schema_length=None),
        ).with_columns(pl.col(c).cast(pl.List(pl.String())) for c in WORD_LISTS),
        "players": _keys(
            pl.from_dicts([seat for row in rows for seat in row.players], infer_schema_length=None),
        ).with_columns(pl.col("hidden").cast(pl.Boolean())),
        "roles": pl.DataFrame([role for row in rows for role in row.roles], schema=ROLE_SCHEMA),
        "events": _events(events, games.columns),
        "claims": _claims(events),
        "beliefs": _beliefs(events),
        "calls": _calls(calls),
        **{name: _game_frame(events, frame) for name, frame in games.frames.items()},
    }


# --- manifests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestRows:
    """The rows one episode's manifest gives the ``episodes``, ``players`` and ``roles``
    frames."""

    episode: dict[str, Any]
    players: list[dict[str, Any]]
    roles: list[dict[str, Any]]


def manifest_rows(
    directory: Path, manifest: Mapping[str, Any], factors: Mapping[str, Any]
) -> ManifestRows:
    """The rows of one episode (``factors``: its sweep's, if any)."""
    return ManifestRows(
        episode_row(directory, manifest, factors), player_rows(manifest), role_rows(manifest)
    )


def sweep_factors(sweeps: Iterable[Path]) -> dict[str, dict[str, Any]]:
    """episode_id -> {"cell": ..., factor path: value} from every ``sweep.json``."""
    factors: dict[str, dict[str, Any]] = {}
    for path in sweeps:
        for episode_id, entry in read_json(path).get("episodes", {}).items():
            factors[episode_id] = {"cell": entry.get("cell"), **entry.get("factors", {})}
    return factors


def seat_label(agent: Mapping[str, Any]) -> str:
    """What plays a seat: its model, or its policy when that policy calls no model."""
    policy = agent.get("policy")
    model = None if policy in MODEL_FREE_POLICIES else agent.get("model")
    return str(model or policy or "unknown")


@dataclass(frozen=True)
class Sides:
    """Who plays for whom in one episode, from its manifest's ``words``."""

    factions: tuple[str, ...]
    """Faction names in the words' order (the uncovering side first)."""
    hidden: frozenset[str]
    """Factions whose members hide their allegiance (the words mark them ``hidden``)."""
    roles: Mapping[str, str]
    """Role -> faction."""

    @classmethod
    def of(cls, manifest: Mapping[str, Any]) -> Sides:
        """The sides of an episode (none when its manifest has no ``words``)."""
        words: Mapping[str, Any] = manifest.get("words") or {}
        factions: list[Mapping[str, Any]] = words.get("factions") or []
        return cls(
            tuple(str(f["name"]) for f in factions),
            frozenset(str(f["name"]) for f in factions if f.get("hidden")),
            dict(words.get("roles") or {}),
        )

    def faction(self, role: str | None) -> str | None:
        """The faction of ``role`` (None for a role the words do not declare)."""
        return None if role is None else self.roles.get(role)

    def is_hidden(self, role: str | None) -> bool | None:
        """Whether ``role`` plays for a hidden faction (None for an undeclared role)."""
        faction = self.faction(role)
        return None if faction is None else faction in self.hidden


def episode_row(
    directory: Path, manifest: Mapping[str, Any], factors: Mapping[str, Any]
) -> dict[str, Any]:
    """One row of the ``episodes`` frame."""
    outcome = manifest.get("outcome") or {}
    usage = manifest.get("usage") or {}
    health = manifest.get("health_total") or {}
    roles: Mapping[str, str] = manifest.get("roles") or {}
    agents: Mapping[str, Mapping[str, Any]] = manifest.get("agents") or {}
    words: Mapping[str, Any] = manifest.get("words") or {}
    sides = Sides.of(manifest)
    labels = {seat: seat_label(agent) for seat, agent in agents.items()}
    started, finished = manifest.get("started_at"), manifest.get("finished_at")
    row: dict[str, Any] = {
        "episode_id": manifest["episode_id"],
        "run": directory.parent.name,
        "path": str(directory),
        "name": manifest.get("name"),
        "scenario": manifest.get("scenario"),
        "seed": manifest.get("seed"),
        "status": manifest.get("status"),
        "status_reason": manifest.get("status_reason"),
        "n_players": len(manifest.get("players") or roles),
        "n_hidden": sum(bool(sides.is_hidden(role)) for role in roles.values()),
        "factions": list(sides.factions),
        "hidden_factions": [f for f in sides.factions if f in sides.hidden],
        "suspect": words.get("suspect"),
        "elimination_causes": sorted(words.get("eliminations") or {}),
        "winner": outcome.get("winner"),
        "reason": outcome.get("reason"),
        "rounds": outcome.get("rounds"),
        "truncated": outcome.get("truncated"),
        "n_events": manifest.get("n_events"),
        "started_at": started,
        "duration_s": finished - started if started is not None and finished else None,
        "calls": int(usage.get("calls", 0)),
        "prompt_tokens": int(usage.get("prompt_tokens", 0)),
        "completion_tokens": int(usage.get("completion_tokens", 0)),
        "cost": float(usage.get("cost", 0.0)),
        **{name: int(health.get(name, 0)) for name in HEALTH},
        "model": _joined(labels.values()),
    }
    for role in sorted(set(roles.values())):
        row[f"{role}_model"] = _joined(lab for s, lab in labels.items() if roles.get(s) == role)
    for faction in sides.factions:  # a role named like its faction keeps its column
        row.setdefault(
            f"{faction}_model",
            _joined(lab for s, lab in labels.items() if sides.faction(roles.get(s)) == faction),
        )
    row.update(fork_columns(manifest))
    spec = {k: v for k, v in (manifest.get("spec") or {}).items() if k not in row and v is not None}
    row.update(flatten(spec))
    row.update(factors)
    return row


FORK_FIELDS = ("parent", "parent_dir", "at", "arm", "sample", "seed", "question", "prefix_calls")
"""The scalars of a fork episode's ``fork`` record copied into ``episodes`` (as ``fork.<name>``)."""
INTERVENTION_FIELDS = ("kind", "target", "actor", "round", "phase", "label")
"""The scalars of its ``fork.intervention`` (as ``fork.intervention.<name>``)."""


def fork_columns(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The ``fork.*`` columns of a fork episode (made by ``traitors fork`` or ``traitors
    influence``): which parent, fork point, arm, sample and question it belongs to, and its
    intervention; none for an ordinary episode (the column is then null)."""
    fork = manifest.get("fork")
    if not isinstance(fork, Mapping):
        return {}
    intervention = fork.get("intervention")
    intervention = intervention if isinstance(intervention, Mapping) else {}
    return {
        **{f"fork.{name}": fork.get(name) for name in FORK_FIELDS},
        **{f"fork.intervention.{name}": intervention.get(name) for name in INTERVENTION_FIELDS},
    }


def player_rows(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows of the ``players`` frame: one per seat, with its initial and final role and the
    faction of its initial role."""
    roles: Mapping[str, str] = manifest.get("roles") or {}
    final: Mapping[str, str] = manifest.get("final_roles") or roles
    agents: Mapping[str, Mapping[str, Any]] = manifest.get("agents") or {}
    sides = Sides.of(manifest)
    rows = []
    for seat_index, player in enumerate(manifest.get("players") or roles):
        agent = agents.get(player, {})
        rows.append(
            {
                "episode_id": manifest["episode_id"],
                "player": player,
                "seat": seat_index,
                "role": roles.get(player),
                "faction": sides.faction(roles.get(player)),
                "hidden": sides.is_hidden(roles.get(player)),
                "final_role": final.get(player),
                "policy": agent.get("policy"),
                "model": agent.get("model"),
                "label": seat_label(agent),
                "persona": agent.get("persona"),
                "temperature": agent.get("temperature"),
            }
        )
    return rows


def role_rows(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows of the ``roles`` frame: every role the episode's words declare, with its faction."""
    sides = Sides.of(manifest)
    return [
        {
            "episode_id": manifest["episode_id"],
            "role": role,
            "faction": faction,
            "hidden": faction in sides.hidden,
        }
        for role, faction in sides.roles.items()
    ]


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Scalars of a nested mapping under dotted paths (``rules.n_players``); lists are left out."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{path}."))
        elif not isinstance(value, list | tuple):
            flat[path] = value
    return flat


def _joined(labels: Iterable[str]) -> str | None:
    """The distinct seat labels, sorted and joined by ``+`` (None for no seat)."""
    distinct = sorted(set(labels))
    return "+".join(distinct) if distinct else None


def _keys(frame: pl.DataFrame) -> pl.DataFrame:
    """Identifier columns of a frame built from manifests as :data:`KEY`."""
    names = ("episode_id", "player", "role", "faction", "final_role")
    return frame.with_columns(pl.col(n).cast(KEY) for n in names if n in frame.columns)


# --- JSON lines --------------------------------------------------------------------------


def _event_schema(players: Sequence[str], games: GameFields) -> dict[str, pl.DataType]:
    """:data:`_RAW_EVENT_SCHEMA` with the games' fields and ``probs``: a belief report's
    P(on the hidden side) of each player (the engine accepts no other key)."""
    schema = {**_RAW_EVENT_SCHEMA, **games.fields}
    if not players:
        return schema
    return {**schema, "probs": pl.Struct({p: pl.Float64() for p in players})}


def _cut_short(
    lines: Mapping[str, int], episodes: list[tuple[str, Path, dict[str, Any]]]
) -> set[str]:
    """Episodes whose events.jsonl holds another number of lines than their manifest counts
    events: a log cut on a line boundary parses, but is not the whole game."""
    return {
        eid
        for eid, _, manifest in episodes
        if isinstance(manifest.get("n_events"), int) and lines.get(eid, 0) != manifest["n_events"]
    }


def _column(raw: pl.DataFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    if name in raw.columns:
        return pl.col(name).cast(dtype)
    return pl.lit(None, dtype).alias(name)


def _field(raw: pl.DataFrame, struct: str, field: str, alias: str) -> pl.Expr:
    dtype = raw.schema.get(struct)
    if isinstance(dtype, pl.Struct) and field in {f.name for f in dtype.fields}:
        return pl.col(struct).struct.field(field).cast(KEY).alias(alias)
    return pl.lit(None, KEY).alias(alias)


def _events(raw: pl.DataFrame, columns: Mapping[str, pl.DataType]) -> pl.DataFrame:
    from_visibility = {
        "visibility": _field(raw, "visibility", "scope", "visibility"),
        "channel": _field(raw, "visibility", "name", "channel"),
    }
    if "kind" in raw.columns:  # an ``act`` line written some other way than the engine's
        raw = raw.filter(pl.col("kind") != "act")
    return raw.select(
        from_visibility[name] if name in from_visibility else _column(raw, name, dtype)
        for name, dtype in {**EVENT_SCHEMA, **columns}.items()
    )


def _claims(raw: pl.DataFrame) -> pl.DataFrame:
    dtype = raw.schema.get("claims")
    if not isinstance(dtype, pl.List) or not isinstance(dtype.inner, pl.Struct):
        return pl.DataFrame(schema=CLAIM_SCHEMA)
    speeches = raw.filter(pl.col("kind") == "speak").select(
        "episode_id",
        "seq",
        "round",
        "phase",
        "actor",
        _field(raw, "visibility", "scope", "visibility"),
        pl.col("claims").alias("c"),
    )
    exploded = speeches.explode("c").drop_nulls("c").unnest("c")
    exploded = exploded.rename({"kind": "claim"})
    return exploded.select(_column(exploded, name, t) for name, t in CLAIM_SCHEMA.items())


def _beliefs(raw: pl.DataFrame) -> pl.DataFrame:
    dtype = raw.schema.get("probs")
    if not isinstance(dtype, pl.Struct) or not dtype.fields:
        return pl.DataFrame(schema=BELIEF_SCHEMA)
    index = ["episode_id", "seq", "round", "phase", "observer"]
    wide = raw.filter(pl.col("kind") == "belief").select(
        *index[:4], pl.col("actor").alias("observer"), pl.col("probs")
    )
    long = wide.unnest("probs").unpivot(index=index, variable_name="target", value_name="p")
    long = long.drop_nulls("p").sort("episode_id", "seq", "target")
    return long.select(_column(long, n, t) for n, t in BELIEF_SCHEMA.items())


def _game_frame(raw: pl.DataFrame, frame: Frame) -> pl.DataFrame:
    """A game's frame, with its schema (empty when the logs hold none of its fields)."""
    if "kind" not in raw.columns or not set(frame.fields) <= set(raw.columns):
        return pl.DataFrame(schema=dict(frame.schema))
    built = frame.build(raw.filter(pl.col("kind") != "act"))
    return built.select(_column(built, name, dtype) for name, dtype in frame.schema.items())


def _calls(raw: pl.DataFrame) -> pl.DataFrame:
    if "usage" in raw.columns:
        raw = raw.with_columns(
            pl.col("usage").struct.field("prompt_tokens"),
            pl.col("usage").struct.field("completion_tokens"),
            pl.col("usage").struct.field("cached_tokens").fill_null(0),
        )
    return raw.select(_column(raw, name, dtype) for name, dtype in CALL_SCHEMA.items())
