"""Build the polars frames of a set of episode directories from their JSON logs.

All ``events.jsonl`` lines are tagged with their episode id and parsed in one polars call;
the columns are then fixed to one schema, whatever kinds of event the run happened to hold.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from analysis.discover import Discovery, read_json
from traitors.log import CALLS, EVENTS

FRAME_NAMES = ("episodes", "players", "events", "claims", "beliefs", "catalogue", "calls")

KEY = pl.Categorical()
"""The dtype of identifiers (episode ids, player names, kinds, phases, roles): they read as
strings, and joins and groupings on them compare small integer codes."""

MODEL_FREE_POLICIES = frozenset({"random", "heuristic", "human"})
"""Built-in policies that never call a model (a spec may still name one for its seats)."""

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
    "ballot": pl.Int64(),
    "decided": KEY,
    "tied": pl.List(KEY),
    "random_pick": pl.Boolean(),
    "accepted": pl.Boolean(),
    "item": pl.String(),
    "alive": pl.List(KEY),
    "text": pl.String(),
    "winner": pl.String(),
    "reason": pl.String(),
    "truncated": pl.Boolean(),
    "error": pl.String(),
}
"""One row per event. ``visibility`` is the scope (public, channel, direct, private, god)."""

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
"""One row per (belief event, other player): the observer's private P(target is a traitor)."""

CATALOGUE_SCHEMA: dict[str, pl.DataType] = {
    "episode_id": KEY,
    "item": pl.String(),
    "name": pl.String(),
    "price": pl.Float64(),
    "customer_utility": pl.Float64(),
    "company_utility": pl.Float64(),
    "preferred": pl.Boolean(),
    "budget": pl.Float64(),
}
"""One row per catalogue item of a principal-agent case (its ``case`` event): ground truth."""

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
    "cost": pl.Float64(),
    "latency_s": pl.Float64(),
    "attempts": pl.Int64(),
    "started_at": pl.Float64(),
}
"""One row per model call (messages and params are left in ``calls.jsonl``)."""


def _as_read(schema: Mapping[str, pl.DataType]) -> dict[str, pl.DataType]:
    """``schema`` as the JSON holds it: identifiers are text until the frames are built."""
    text = {KEY: pl.String(), pl.List(KEY): pl.List(pl.String())}
    return {name: text.get(dtype, dtype) for name, dtype in schema.items()}


def _catalogue_item_fields() -> dict[str, pl.DataType]:
    """A catalogue item's fields besides its ``id``, typed as in :data:`CATALOGUE_SCHEMA`."""
    item = ("name", "price", "customer_utility", "company_utility")
    return {name: CATALOGUE_SCHEMA[name] for name in item}


_RAW_EVENT_SCHEMA: dict[str, pl.DataType] = {
    **_as_read({k: v for k, v in EVENT_SCHEMA.items() if k != "episode_id"}),
    "visibility": pl.Struct({"scope": pl.String(), "name": pl.String()}),
    "claims": pl.List(pl.Struct({"kind": pl.String(), "target": pl.String(), "role": pl.String()})),
    "budget": pl.Float64(),
    "preferred": pl.String(),
    "catalogue": pl.List(pl.Struct({"id": pl.String(), **_catalogue_item_fields()})),
}
"""The fields of ``events.jsonl`` the frames are built from, as the event models write them
(given, polars parses the lines in one pass instead of two); ``probs`` is added per run."""

_CALL_JSON_SCHEMA: dict[str, pl.DataType] = {
    **_as_read({k: v for k, v in CALL_SCHEMA.items() if not k.endswith("_tokens")}),
    "usage": pl.Struct({"prompt_tokens": pl.Int64(), "completion_tokens": pl.Int64()}),
}


def build_frames(discovery: Discovery) -> dict[str, pl.DataFrame]:
    """Every frame of :data:`FRAME_NAMES` for the complete episodes found."""
    episodes = [(m["episode_id"], d, m) for d, m in discovery.complete]
    factors = sweep_factors(discovery.listing.sweeps)
    players = sorted({p for _, _, m in episodes for p in m.get("players") or m.get("roles") or ()})
    events = _read_jsonl([(eid, d / EVENTS) for eid, d, _ in episodes], _event_schema(players))
    calls = _read_jsonl([(eid, d / CALLS) for eid, d, _ in episodes], _CALL_JSON_SCHEMA)
    return {
        "episodes": _keys(
            pl.from_dicts(
                [episode_row(d, m, factors.get(eid, {})) for eid, d, m in episodes],
                infer_schema_length=None,
            ),
        ),
        "players": _keys(
            pl.from_dicts(
                [row for _, _, m in episodes for row in player_rows(m)], infer_schema_length=None
            ),
        ),
        "events": _events(events),
        "claims": _claims(events),
        "beliefs": _beliefs(events),
        "catalogue": _catalogue(events),
        "calls": _calls(calls),
    }


# --- manifests ---------------------------------------------------------------------------


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


def episode_row(
    directory: Path, manifest: Mapping[str, Any], factors: Mapping[str, Any]
) -> dict[str, Any]:
    """One row of the ``episodes`` frame."""
    outcome = manifest.get("outcome") or {}
    usage = manifest.get("usage") or {}
    roles: Mapping[str, str] = manifest.get("roles") or {}
    agents: Mapping[str, Mapping[str, Any]] = manifest.get("agents") or {}
    started, finished = manifest.get("started_at"), manifest.get("finished_at")
    row: dict[str, Any] = {
        "episode_id": manifest["episode_id"],
        "run": directory.parent.name,
        "path": str(directory),
        "name": manifest.get("name"),
        "scenario": manifest.get("scenario"),
        "seed": manifest.get("seed"),
        "n_players": len(manifest.get("players") or roles),
        "n_traitors": sum(role == "traitor" for role in roles.values()),
        "winner": outcome.get("winner"),
        "reason": outcome.get("reason"),
        "rounds": outcome.get("rounds"),
        "truncated": outcome.get("truncated"),
        "n_events": manifest.get("n_events"),
        "started_at": started,
        "duration_s": finished - started if started is not None and finished else None,
        "calls": usage.get("calls", 0),
        "prompt_tokens": usage.get("prompt_tokens", 0),
        "completion_tokens": usage.get("completion_tokens", 0),
        "cost": float(usage.get("cost", 0.0)),
        "model": _labels(agents.values()),
    }
    for role in sorted(set(roles.values())):
        row[f"{role}_model"] = _labels(a for s, a in agents.items() if roles.get(s) == role)
    spec = {k: v for k, v in (manifest.get("spec") or {}).items() if k not in row and v is not None}
    row.update(flatten(spec))
    row.update(factors)
    return row


def player_rows(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows of the ``players`` frame: one per seat, with its initial and final role."""
    roles: Mapping[str, str] = manifest.get("roles") or {}
    final: Mapping[str, str] = manifest.get("final_roles") or roles
    agents: Mapping[str, Mapping[str, Any]] = manifest.get("agents") or {}
    rows = []
    for seat_index, player in enumerate(manifest.get("players") or roles):
        agent = agents.get(player, {})
        rows.append(
            {
                "episode_id": manifest["episode_id"],
                "player": player,
                "seat": seat_index,
                "role": roles.get(player),
                "final_role": final.get(player),
                "policy": agent.get("policy"),
                "model": agent.get("model"),
                "label": seat_label(agent),
                "persona": agent.get("persona"),
                "temperature": agent.get("temperature"),
            }
        )
    return rows


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


def _labels(agents: Iterable[Mapping[str, Any]]) -> str | None:
    labels = sorted({seat_label(a) for a in agents})
    return "+".join(labels) if labels else None


def _keys(frame: pl.DataFrame) -> pl.DataFrame:
    """Identifier columns of a frame built from manifests as :data:`KEY`."""
    names = ("episode_id", "player", "role", "final_role")
    return frame.with_columns(pl.col(n).cast(KEY) for n in names if n in frame.columns)


# --- JSON lines --------------------------------------------------------------------------


def _event_schema(players: Sequence[str]) -> dict[str, pl.DataType]:
    """:data:`_RAW_EVENT_SCHEMA` with ``probs``: a belief report's P(traitor) of each player
    (the engine accepts no other key)."""
    if not players:
        return _RAW_EVENT_SCHEMA
    return {**_RAW_EVENT_SCHEMA, "probs": pl.Struct({p: pl.Float64() for p in players})}


def _read_jsonl(
    files: Iterable[tuple[str, Path]], schema: Mapping[str, pl.DataType] | None = None
) -> pl.DataFrame:
    """Parse many JSONL files at once, each line tagged with its file's episode id."""
    lines: list[bytes] = []
    for episode_id, path in files:
        if not path.is_file():
            continue
        prefix = b'{"episode_id":' + json.dumps(episode_id).encode() + b","
        lines.extend(prefix + line.strip()[1:] for line in path.read_bytes().splitlines())
    if not lines:
        return pl.DataFrame(schema={"episode_id": pl.String()})
    return pl.read_ndjson(
        io.BytesIO(b"\n".join(lines)),
        schema={"episode_id": pl.String(), **schema} if schema else None,
        infer_schema_length=None,
    )


def _column(raw: pl.DataFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    if name in raw.columns:
        return pl.col(name).cast(dtype)
    return pl.lit(None, dtype).alias(name)


def _field(raw: pl.DataFrame, struct: str, field: str, alias: str) -> pl.Expr:
    dtype = raw.schema.get(struct)
    if isinstance(dtype, pl.Struct) and field in {f.name for f in dtype.fields}:
        return pl.col(struct).struct.field(field).cast(KEY).alias(alias)
    return pl.lit(None, KEY).alias(alias)


def _events(raw: pl.DataFrame) -> pl.DataFrame:
    from_visibility = {
        "visibility": _field(raw, "visibility", "scope", "visibility"),
        "channel": _field(raw, "visibility", "name", "channel"),
    }
    return raw.select(
        from_visibility[name] if name in from_visibility else _column(raw, name, dtype)
        for name, dtype in EVENT_SCHEMA.items()
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


def _catalogue(raw: pl.DataFrame) -> pl.DataFrame:
    dtype = raw.schema.get("catalogue")
    if not isinstance(dtype, pl.List) or not isinstance(dtype.inner, pl.Struct):
        return pl.DataFrame(schema=CATALOGUE_SCHEMA)
    cases = raw.filter(pl.col("kind") == "case").select(
        "episode_id", "budget", pl.col("preferred").alias("_preferred"), "catalogue"
    )
    items = cases.explode("catalogue").unnest("catalogue").rename({"id": "item"})
    items = items.with_columns(preferred=pl.col("item") == pl.col("_preferred"))
    return items.select(_column(items, name, t) for name, t in CATALOGUE_SCHEMA.items())


def _calls(raw: pl.DataFrame) -> pl.DataFrame:
    if "usage" in raw.columns:
        raw = raw.with_columns(
            pl.col("usage").struct.field("prompt_tokens"),
            pl.col("usage").struct.field("completion_tokens"),
        )
    return raw.select(_column(raw, name, dtype) for name, dtype in CALL_SCHEMA.items())
