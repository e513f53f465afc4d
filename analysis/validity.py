"""The ``validity`` metric group: how honestly the models' games were played.

Per model and action kind: calls, failed calls, timeouts, decisions, repaired replies,
defaulted actions, prompt and completion tokens per player-round and cost per episode; per
seat (and the model that played it): the errors blamed on it; the rules-text check's
mismatches (``analysis.rules_check``); and a warning line when a rate passes its threshold
(``traitors.store.validity``). Only complete episodes are counted: degraded ones are left out and
counted in the titles. The facts come from the raw logs (``analysis.episode_files``), paired
by ``analysis.call_attribution``; the per-seat counts from the manifests' ``health``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl

from analysis.call_attribution import Attribution, attribute
from analysis.episode_files import EpisodeFiles, episode_files
from analysis.frames import seat_label
from analysis.loader import RunData
from analysis.rules_check import check_text, checked_facts, episode_rules
from analysis.summary import Table
from traitors.store.validity import warning_line, warnings

ALL_KINDS = "all"
"""The ``kind`` of a model's row summing all its kinds."""
OWN_COLUMNS = frozenset({"episode_id", "seat", "model", "kind"})
"""Columns of the validity tables: a factor of that name is not a split (``--by model`` is
what the tables do anyway)."""
HEALTH_COUNTS = ("decisions", "calls", "failed_calls", "repaired", "defaulted")
"""The per-seat counts of a manifest's ``health`` shown per seat."""


@dataclass
class Facts:
    """What the validity tables are made of, gathered episode by episode."""

    decisions: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    seats: list[dict[str, Any]] = field(default_factory=list)
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    prompts: int = 0
    """Distinct (episode, seat, system prompt) checked."""
    unchecked: set[str] = field(default_factory=set)
    """Scenarios that declare no rule facts (their prompts are not checked, and the notes
    say so)."""
    unmatched: int = 0
    """Seats whose calls could not be paired with their decisions."""

    def add(self, files: EpisodeFiles) -> None:
        """Add one complete episode."""
        eid = files.episode_id
        paired = attribute(files)
        self.decisions += [{"episode_id": eid, **asdict(d)} for d in paired.decisions]
        self.calls += [{"episode_id": eid, **asdict(c)} for c in paired.calls]
        self.unmatched += len(paired.unmatched)
        self.seats += _seat_rows(files.manifest, paired)
        self._check_rules(files.manifest, paired)

    def _check_rules(self, manifest: Mapping[str, Any], paired: Attribution) -> None:
        scenario = str(manifest.get("scenario"))
        if not checked_facts(scenario):
            self.unchecked.add(scenario)
            return
        rules = episode_rules(scenario, (manifest.get("spec") or {}).get("rules") or {})
        for (seat, text), calls in paired.prompts.items():
            self.prompts += 1
            for mismatch in check_text(scenario, rules, text):
                row = {"episode_id": manifest["episode_id"], "seat": seat, **asdict(mismatch)}
                self.mismatches.append({**row, "calls": calls})


def summaries(data: RunData, by: Sequence[str]) -> list[Table]:
    """The validity tables of the complete episodes, and the notes and warning line."""
    by = [f for f in dict.fromkeys(by) if f not in OWN_COLUMNS]
    facts = Facts()
    for files in episode_files(data):
        facts.add(files)
    degraded = data.degraded + _not_complete(data)
    complete = len({row["episode_id"] for row in facts.seats})
    counted = f"{complete} complete episode(s); {degraded} degraded left out"
    factors = _factors(data, by)
    per_kind = _per_model_and_kind(facts, factors, by)
    tables = [
        Table(
            "validity",
            f"validity per model and action kind ({counted})",
            per_kind,
            (*by, "model", "kind"),
        ),
        Table(
            "validity_seats",
            f"validity per seat: errors blamed on it ({counted})",
            _per_seat(facts, factors, by),
            (*by, "seat", "model"),
        ),
    ]
    tables.append(
        Table(
            "validity_cache",
            f"prompt caching per model: the share of prompt tokens read from the provider's "
            f"cache and the dollars it saved ({counted})",
            _cache(data, factors, by),
            (*by, "model"),
        )
    )
    tables += _rules_tables(facts)
    if facts.unmatched:
        tables.append(
            _note(
                f"validity: the calls of {facts.unmatched} seat(s) could not be paired with "
                "their decisions (kind: unmatched)"
            )
        )
    line = warning_line(_warnings(per_kind, by, complete, degraded, facts))
    if line:
        tables.append(_note(line))
    return tables


def _cache(data: RunData, factors: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Per (factors, model): calls, prompt tokens, cached tokens and their share, cost, and
    the saving against the full input price (each call's ``cache_saving``)."""
    keys = [*by, "model"]
    return (
        data.calls.with_columns(pl.col("episode_id").cast(pl.String()))
        .join(factors.lazy(), on="episode_id", how="inner")
        .group_by(keys)
        .agg(
            calls=pl.len(),
            prompt_tokens=pl.col("prompt_tokens").sum(),
            cached_tokens=pl.col("cached_tokens").fill_null(0).sum(),
            cost=pl.col("cost").sum(),
            saving=pl.col("cache_saving").fill_null(0.0).sum(),
        )
        .with_columns(
            cached_share=pl.when(pl.col("prompt_tokens") > 0)
            .then(pl.col("cached_tokens") / pl.col("prompt_tokens"))
            .otherwise(None)
        )
        .select(*keys, "calls", "prompt_tokens", "cached_tokens", "cached_share", "cost", "saving")
        .sort(keys)
        .collect()
    )


def _not_complete(data: RunData) -> int:
    """Loaded episodes that are not complete (with ``include_degraded``)."""
    return int(
        data.episodes.filter(pl.col("status") != "complete").select(pl.len()).collect().item()
    )


def _factors(data: RunData, by: Sequence[str]) -> pl.DataFrame:
    return data.episodes.select(pl.col("episode_id").cast(pl.String()), *by).collect()


def _with_factors(
    rows: list[dict[str, Any]], schema: dict[str, pl.DataType], factors: pl.DataFrame
) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=schema)
    return frame.join(factors, on="episode_id", how="left")


DECISION_SCHEMA: dict[str, pl.DataType] = {
    "episode_id": pl.String(),
    "seat": pl.String(),
    "round": pl.Int64(),
    "kind": pl.String(),
    "defaulted": pl.Boolean(),
    "model": pl.String(),
    "repaired": pl.Boolean(),
}
CALL_SCHEMA: dict[str, pl.DataType] = {
    "episode_id": pl.String(),
    "seat": pl.String(),
    "model": pl.String(),
    "kind": pl.String(),
    "round": pl.Int64(),
    "failed": pl.Boolean(),
    "timeout": pl.Boolean(),
    "prompt_tokens": pl.Int64(),
    "completion_tokens": pl.Int64(),
    "cost": pl.Float64(),
}


def _per_model_and_kind(facts: Facts, factors: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """One row per (factors, model, kind), and a ``kind=all`` row per model."""
    decisions = _with_factors(facts.decisions, DECISION_SCHEMA, factors)
    calls = _with_factors(facts.calls, CALL_SCHEMA, factors)
    model = [*by, "model"]
    places = pl.concat(
        [
            decisions.select(*model, "episode_id", "seat", "round"),
            calls.select(*model, "episode_id", "seat", "round"),
        ]
    )
    per_model = places.group_by(model).agg(
        player_rounds=pl.struct("episode_id", "seat", "round").drop_nulls().n_unique(),
        n_episodes=pl.col("episode_id").n_unique(),
    )
    rows = []
    for kinds in (pl.col("kind"), pl.lit(ALL_KINDS).alias("kind")):
        keys = [*model, "kind"]
        call_counts = (
            calls.with_columns(kinds)
            .group_by(keys)
            .agg(
                calls=pl.len(),
                failed_calls=pl.col("failed").sum(),
                timeouts=pl.col("timeout").sum(),
                prompt_tokens=pl.col("prompt_tokens").sum(),
                completion_tokens=pl.col("completion_tokens").sum(),
                cost=pl.col("cost").sum(),
            )
        )
        decision_counts = (
            decisions.with_columns(kinds)
            .group_by(keys)
            .agg(
                decisions=pl.len(),
                repaired=pl.col("repaired").sum(),
                defaulted=pl.col("defaulted").sum(),
            )
        )
        rows.append(
            call_counts.join(decision_counts, on=keys, how="full", coalesce=True, nulls_equal=True)
        )
    joined = pl.concat(rows).join(per_model, on=model, how="left", nulls_equal=True)
    counts = ["calls", "failed_calls", "timeouts", "decisions", "repaired", "defaulted"]
    return joined.select(
        *model,
        "kind",
        *(pl.col(c).fill_null(0).cast(pl.Int64()) for c in counts),
        (pl.col("prompt_tokens").fill_null(0) / pl.col("player_rounds")).alias(
            "prompt_tokens_per_player_round"
        ),
        (pl.col("completion_tokens").fill_null(0) / pl.col("player_rounds")).alias(
            "completion_tokens_per_player_round"
        ),
        (pl.col("cost").fill_null(0.0) / pl.col("n_episodes")).alias("cost_per_episode"),
    ).sort(*model, pl.col("kind") == ALL_KINDS, "kind", nulls_last=True)


def _seat_rows(manifest: Mapping[str, Any], paired: Attribution) -> list[dict[str, Any]]:
    """One row per seat of a manifest: its ``health`` counts and its timed-out calls."""
    agents: Mapping[str, Mapping[str, Any]] = manifest.get("agents") or {}
    health: Mapping[str, Mapping[str, int]] = manifest.get("health") or {}
    timeouts: dict[str, int] = {}
    for call in paired.calls:
        timeouts[call.seat] = timeouts.get(call.seat, 0) + call.timeout
    return [
        {
            "episode_id": manifest["episode_id"],
            "seat": seat,
            "model": seat_label(agents.get(seat) or {}),
            **{name: int((health.get(seat) or {}).get(name, 0)) for name in HEALTH_COUNTS},
            "timeouts": timeouts.get(seat, 0),
        }
        for seat in manifest.get("players") or health
    ]


def _per_seat(facts: Facts, factors: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {
        "episode_id": pl.String(),
        "seat": pl.String(),
        "model": pl.String(),
        **{name: pl.Int64() for name in (*HEALTH_COUNTS, "timeouts")},
    }
    seats = _with_factors(facts.seats, schema, factors)
    keys = [*dict.fromkeys(by), "seat", "model"]
    counts = ["decisions", "calls", "failed_calls", "timeouts", "repaired", "defaulted"]
    return (
        seats.group_by(keys)
        .agg(pl.col("episode_id").n_unique().alias("episodes"), *(pl.col(c).sum() for c in counts))
        .sort(keys, nulls_last=True)
    )


def _rules_tables(facts: Facts) -> list[Table]:
    """The mismatches of the rules-text check, or a line saying there are none."""
    unchecked = (
        f"; not checked for {', '.join(sorted(facts.unchecked))} (no rule facts declared)"
        if facts.unchecked
        else ""
    )
    if not facts.mismatches:
        return [
            _note(
                f"rules text: all {facts.prompts} system prompt(s) checked state the rules "
                f"their episode ran with{unchecked}"
            )
        ]
    frame = pl.DataFrame(facts.mismatches).sort("episode_id", "seat", "fact", "stated")
    episodes = frame["episode_id"].n_unique()
    title = (
        f"rules text differing from the rules played: {frame.height} mismatch(es) in "
        f"{episodes} episode(s), of {facts.prompts} system prompt(s) checked{unchecked}"
    )
    return [Table("validity_rules", title, frame, ("episode_id", "seat", "fact"))]


def _warnings(
    per_kind: pl.DataFrame, by: Sequence[str], complete: int, degraded: int, facts: Facts
) -> list[str]:
    """The warning phrases: each model's rates over every kind, the share of degraded
    episodes, and any rules-text mismatch."""
    totals = (
        per_kind.filter(pl.col("kind") == ALL_KINDS)
        .group_by("model")
        .agg(
            pl.col("calls", "failed_calls", "timeouts", "decisions", "repaired", "defaulted").sum()
        )
        .sort("model")
    )
    phrases = [
        phrase
        for row in totals.iter_rows(named=True)
        for phrase in warnings(row, str(row["model"]))
    ]
    phrases += warnings({"episodes": complete, "degraded": degraded})
    if facts.mismatches:
        episodes = len({m["episode_id"] for m in facts.mismatches})
        phrases.append(f"rules text differs from the rules played in {episodes} episode(s)")
    return phrases


def _note(line: str) -> Table:
    """A line printed with the tables (a table without columns)."""
    return Table("validity_note", line, pl.DataFrame(), ())
