"""Causal effects of interventions, from counterfactual fork directories (issue 18).

``traitors fork`` restores a recorded episode up to event ``at`` and plays the rest live,
several times per arm: the **treated** arm with an intervention (a public message dropped,
replaced, ...), the **control** arm from the same fork point with the original kept. Each fork
is an ordinary episode whose manifest carries a ``fork`` record (the frames' ``fork.*``
columns); the arms of one intervention share its ``question``. ``traitors influence`` writes
one question per message of the parent's discussion.

Per fork episode, outcomes are measured on its events from the fork point on (``seq >= at``):
who the next public elimination vote's ballots name and who it decides, the listeners' next
belief probe, and who won. Per question and outcome the effect is treated − control, with
Newcombe's hybrid score interval for the 0/1 outcomes and a seeded percentile bootstrap for the
means. Only complete forks count (degraded ones too with ``include_degraded``); the others are
counted per arm. See analysis/METRICS.md, "Causal effects of interventions (forks)".
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from analysis import tables
from analysis.causal_stats import bootstrap_difference, newcombe
from analysis.discover import discover, list_episodes
from analysis.loader import RunData, load
from analysis.sides import phrase, public_vote_purposes
from analysis.summary import Table
from traitors.store.log import MANIFEST

TREATED, CONTROL = "treated", "control"
"""The arms of a question."""
OUTCOMES = ("next_decided", "next_vote_share", "belief", "winner")
"""The outcomes of a fork, in table order (``winner``'s subject is a faction, the others' a
player)."""
BINARY = frozenset({"next_decided", "winner"})
"""The 0/1 outcomes: a difference of proportions with Newcombe's interval; the others are
means with a bootstrap interval."""
INFLUENCE_OUTCOME = "next_decided"
"""The outcome questions are ranked by: who the next public elimination vote decides."""

FORK_SCHEMA: dict[str, pl.DataType] = {
    "question": pl.String(),
    "arm": pl.String(),
    "sample": pl.Int64(),
    "at": pl.Int64(),
    "parent": pl.String(),
    "kind": pl.String(),
    "target": pl.Int64(),
    "actor": pl.String(),
    "label": pl.String(),
}
"""One fork's record: its question and arm, the fork point and the intervention."""
SOURCES = {
    "question": "fork.question",
    "arm": "fork.arm",
    "sample": "fork.sample",
    "at": "fork.at",
    "parent": "fork.parent",
    "kind": "fork.intervention.kind",
    "target": "fork.intervention.target",
    "actor": "fork.intervention.actor",
    "label": "fork.intervention.label",
}
"""The ``episodes`` column each field of :data:`FORK_SCHEMA` is read from."""

EFFECT_SCHEMA: dict[str, pl.DataType] = {
    "question": pl.String(),
    "outcome": pl.String(),
    "subject": pl.String(),
    "control": pl.Float64(),
    "treated": pl.Float64(),
    "effect": pl.Float64(),
    "low": pl.Float64(),
    "high": pl.Float64(),
    "n_control": pl.Int64(),
    "n_treated": pl.Int64(),
    "interval": pl.String(),
}
INFLUENCE_SCHEMA: dict[str, pl.DataType] = {
    "question": pl.String(),
    "target": pl.Int64(),
    "actor": pl.String(),
    "label": pl.String(),
    "outcome": pl.String(),
    "player": pl.String(),
    "effect": pl.Float64(),
    "low": pl.Float64(),
    "high": pl.Float64(),
    "n_treated": pl.Int64(),
    "n_control": pl.Int64(),
    "control": pl.Float64(),
    "treated": pl.Float64(),
    "left_out_treated": pl.Int64(),
    "left_out_control": pl.Int64(),
    "at": pl.Int64(),
    "kind": pl.String(),
    "parent": pl.String(),
}
"""One row per question of :func:`influence`."""


# --- the forks and their outcomes -----------------------------------------------------------


def forks(data: RunData) -> pl.DataFrame:
    """One row per fork episode loaded: ``episode_id`` and :data:`FORK_SCHEMA` (empty when
    the run holds no fork)."""
    names = data.episodes.collect_schema().names()
    if SOURCES["question"] not in names:
        return pl.DataFrame(schema={"episode_id": pl.String(), **FORK_SCHEMA})
    fields = [
        (pl.col(SOURCES[name]) if SOURCES[name] in names else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in FORK_SCHEMA.items()
    ]
    return (
        data.episodes.filter(pl.col(SOURCES["question"]).is_not_null())
        .select(pl.col("episode_id").cast(pl.String()), *fields)
        .sort("question", "arm", "sample", "episode_id", nulls_last=True)
        .collect()
    )


def per_episode(data: RunData) -> pl.DataFrame:
    """The outcomes of every fork episode, long: (episode_id, question, arm, outcome,
    subject, value); an outcome a fork does not reach (no vote after the fork point, no
    belief probe) has no row."""
    fork = forks(data)
    if fork.is_empty():
        return pl.DataFrame(
            schema={
                "episode_id": pl.String(),
                "question": pl.String(),
                "arm": pl.String(),
                "outcome": pl.String(),
                "subject": pl.String(),
                "value": pl.Float64(),
            }
        )
    points = fork.lazy().select("episode_id", "at", "actor")
    seats = data.players.select(
        pl.col("episode_id").cast(pl.String()), pl.col("player").cast(pl.String())
    ).join(points.select("episode_id"), on="episode_id")
    parts = {
        "next_decided": _next_decided(data, points, seats),
        "next_vote_share": _next_vote_share(data, points, seats),
        "belief": _next_belief(data, points),
        "winner": _winner(data, points),
    }
    long = pl.concat(
        [
            part.select(
                "episode_id",
                pl.lit(outcome).alias("outcome"),
                pl.col("subject").cast(pl.String()),
                pl.col("value").cast(pl.Float64()),
            )
            for outcome, part in parts.items()
        ]
    )
    return (
        long.join(fork.lazy().select("episode_id", "question", "arm"), on="episode_id")
        .select("episode_id", "question", "arm", "outcome", "subject", "value")
        .collect()
    )


def _as_text(*names: str) -> list[pl.Expr]:
    return [pl.col(n).cast(pl.String()) for n in names]


def _next_decided(data: RunData, points: pl.LazyFrame, seats: pl.LazyFrame) -> pl.LazyFrame:
    """1 for the player the first public elimination vote_result at or after the fork point
    that decided someone decided, 0 for every other seat."""
    purposes = tables.elimination_purposes(data).lazy().select(*_as_text("episode_id", "purpose"))
    results = data.events.filter(
        (pl.col("kind") == "vote_result")
        & pl.col("decided").is_not_null()
        & (pl.col("visibility") == "public")
    ).select(*_as_text("episode_id", "purpose", "decided"), "seq")
    first = (
        results.join(purposes, on=["episode_id", "purpose"])
        .join(points, on="episode_id")
        .filter(pl.col("seq") >= pl.col("at"))
        .sort("seq")
        .group_by("episode_id")
        .agg(pl.col("decided").first())
    )
    return seats.join(first, on="episode_id").select(
        "episode_id",
        pl.col("player").alias("subject"),
        (pl.col("player") == pl.col("decided")).alias("value"),
    )


def _next_vote_share(data: RunData, points: pl.LazyFrame, seats: pl.LazyFrame) -> pl.LazyFrame:
    """Share of the ballots of the first public elimination vote (ballot 0) at or after the
    fork point that name each seat (abstentions count in the denominator). A ballot begun
    before the fork point counts whole: its earlier ballots are the same in both arms."""
    ballots = (
        tables.public_votes(data)
        .filter(pl.col("ballot") == 0)
        .select(*_as_text("episode_id", "purpose", "target"), "seq", "round")
        .join(points, on="episode_id")
    )
    first = (
        ballots.filter(pl.col("seq") >= pl.col("at"))
        .sort("seq")
        .group_by("episode_id")
        .agg(pl.col("round", "purpose").first())
    )
    cast = ballots.join(first, on=["episode_id", "round", "purpose"])
    totals = cast.group_by("episode_id").agg(pl.len().alias("cast"))
    against = (
        cast.filter(pl.col("target").is_not_null())
        .group_by("episode_id", "target")
        .agg(pl.len().alias("against"))
        .rename({"target": "player"})
    )
    return (
        seats.join(totals, on="episode_id")
        .join(against, on=["episode_id", "player"], how="left")
        .select(
            "episode_id",
            pl.col("player").alias("subject"),
            (pl.col("against").fill_null(0) / pl.col("cast")).alias("value"),
        )
    )


def _next_belief(data: RunData, points: pl.LazyFrame) -> pl.LazyFrame:
    """Per player, the mean over the listeners (every seat but the message's actor) of the
    P(hidden side) of each listener's first belief report at or after the fork point."""
    reports = (
        data.beliefs.select(*_as_text("episode_id", "observer", "target"), "seq", "p")
        .join(points, on="episode_id")
        .filter(
            (pl.col("seq") >= pl.col("at"))
            & (pl.col("actor").is_null() | (pl.col("observer") != pl.col("actor")))
        )
    )
    first = reports.filter(pl.col("seq") == pl.col("seq").min().over("episode_id", "observer"))
    return first.group_by("episode_id", "target").agg(
        pl.col("target").first().alias("subject"), pl.col("p").mean().alias("value")
    )


def _winner(data: RunData, points: pl.LazyFrame) -> pl.LazyFrame:
    """1 for the faction that won, 0 for every other faction of the forks' words (and any
    other faction that won one of them); a draw is 0 for every faction."""
    games = data.episodes.select(pl.col("episode_id").cast(pl.String()), "winner", "factions").join(
        points.select("episode_id"), on="episode_id"
    )
    named = games.select(pl.col("factions").alias("subject")).explode("subject")
    won = games.select(pl.col("winner").alias("subject"))
    factions = pl.concat([named, won]).drop_nulls().unique()
    return games.join(factions, how="cross").select(
        "episode_id",
        "subject",
        (pl.col("winner").fill_null("") == pl.col("subject")).alias("value"),
    )


# --- effects ----------------------------------------------------------------------------------


def effects(data: RunData) -> pl.DataFrame:
    """One row per (question, outcome, subject): the arms' means, the effect treated −
    control with its 95% interval (``interval``: ``newcombe`` or ``bootstrap``) and the
    forks observed per arm. Rows whose outcome is 0 in every fork of both arms are left out
    (their effect is exactly 0). Ordered as :func:`influence` ranks the questions, then by
    outcome, then by absolute effect."""
    fork = forks(data)
    long = per_episode(data)
    effect = _effects(long)
    ranking = _influence(fork, long, effect, _left_out(data, fork))
    return _ordered(effect, ranking.get_column("question").to_list())


def _effects(long: pl.DataFrame) -> pl.DataFrame:
    """The rows of :func:`effects`, in no particular order."""
    cells: dict[tuple[str, str, str], dict[str, list[float]]] = {}
    for question, arm, outcome, subject, values in (
        long.group_by("question", "arm", "outcome", "subject")
        .agg(pl.col("value"))
        .sort("question", "outcome", "subject", "arm")
        .iter_rows()
    ):
        cells.setdefault((question, outcome, subject), {})[arm] = values
    rows = []
    for (question, outcome, subject), arms in cells.items():
        treated, control = arms.get(TREATED, []), arms.get(CONTROL, [])
        if not any(treated) and not any(control):
            continue
        rows.append(
            {
                "question": question,
                "outcome": outcome,
                "subject": subject,
                "control": sum(control) / len(control) if control else None,
                "treated": sum(treated) / len(treated) if treated else None,
                **_difference(outcome, treated, control),
                "n_control": len(control),
                "n_treated": len(treated),
            }
        )
    return pl.DataFrame(rows, schema=EFFECT_SCHEMA)


def _ordered(effect: pl.DataFrame, questions: Sequence[str]) -> pl.DataFrame:
    """``effect`` with the questions in the order given, then by outcome (the order of
    :data:`OUTCOMES`), then by absolute effect, largest first."""
    rank = {q: i for i, q in enumerate(questions)}
    outcome = {o: i for i, o in enumerate(OUTCOMES)}
    return (
        effect.with_columns(
            pl.col("question").replace_strict(rank, default=len(rank)).alias("_question"),
            pl.col("outcome").replace_strict(outcome, default=len(outcome)).alias("_outcome"),
        )
        .sort(
            ["_question", "_outcome", pl.col("effect").abs(), "subject"],
            descending=[False, False, True, False],
            nulls_last=True,
        )
        .drop("_question", "_outcome")
    )


def _difference(outcome: str, treated: list[float], control: list[float]) -> dict[str, Any]:
    """The effect and its interval, or nulls when an arm has no observation."""
    if not treated or not control:
        return {"effect": None, "low": None, "high": None, "interval": None}
    if outcome in BINARY:
        k1, k2 = round(sum(treated)), round(sum(control))
        effect, low, high = newcombe(k1, len(treated), k2, len(control))
        return {"effect": effect, "low": low, "high": high, "interval": "newcombe"}
    effect, low, high = bootstrap_difference(treated, control)
    return {"effect": effect, "low": low, "high": high, "interval": "bootstrap"}


# --- influence: one row per question -------------------------------------------------------------


def influence(data: RunData) -> pl.DataFrame:
    """One row per question (see :data:`INFLUENCE_SCHEMA`): its intervention, the effect on
    the next decided public elimination vote against the player it moves most (largest
    absolute effect, a positive one first on a tie; null when no fork of the question
    reached such a vote), with its
    Newcombe 95% interval, the forks per arm that reached the vote, and the forks per arm
    left out (not complete, or a damaged log). Ranked by the absolute effect, most
    influential first (nulls last), then by the message's seq."""
    fork = forks(data)
    long = per_episode(data)
    return _influence(fork, long, _effects(long), _left_out(data, fork))


def influence_table(directory: str | Path, include_degraded: bool = False) -> pl.DataFrame:
    """:func:`influence` of the fork directory ``directory`` (complete forks only, unless
    ``include_degraded``). Raises ``AnalysisError`` when it holds no complete episode."""
    return influence(load(directory, include_degraded=include_degraded))


def _influence(
    fork: pl.DataFrame,
    long: pl.DataFrame,
    effect: pl.DataFrame,
    left_out: pl.DataFrame,
) -> pl.DataFrame:
    meta = pl.concat(
        [fork.drop("episode_id").lazy(), left_out.drop("left_out").lazy()], how="vertical"
    )
    questions = meta.group_by("question").agg(
        pl.col("target", "actor", "label", "at", "kind", "parent").drop_nulls().first()
    )
    best = (
        effect.lazy()
        .filter((pl.col("outcome") == INFLUENCE_OUTCOME) & pl.col("effect").is_not_null())
        .sort(  # a tie (one player's loss is another's gain): the gain first
            [pl.col("effect").abs(), "effect", "subject"],
            descending=[True, True, False],
            maintain_order=True,
        )
        .group_by("question", maintain_order=True)
        .agg(
            pl.col("subject").first().alias("player"),
            pl.col("effect", "low", "high", "control", "treated").first(),
        )
    )
    reached = (
        long.lazy()
        .filter(pl.col("outcome") == INFLUENCE_OUTCOME)
        .group_by("question")
        .agg(
            *(
                pl.col("episode_id").filter(pl.col("arm") == arm).n_unique().alias(f"n_{arm}")
                for arm in (TREATED, CONTROL)
            )
        )
    )
    missing = (
        left_out.lazy()
        .group_by("question")
        .agg(
            *(
                pl.col("left_out").filter(pl.col("arm") == arm).sum().alias(f"left_out_{arm}")
                for arm in (TREATED, CONTROL)
            )
        )
    )
    counts = ("n_treated", "n_control", "left_out_treated", "left_out_control")
    return (
        questions.join(best, on="question", how="left")
        .join(reached, on="question", how="left")
        .join(missing, on="question", how="left")
        .with_columns(
            pl.col(*counts).fill_null(0),
            pl.lit(INFLUENCE_OUTCOME).alias("outcome"),
            pl.coalesce("label", _default_label()).alias("label"),
        )
        .select(pl.col(name).cast(dtype) for name, dtype in INFLUENCE_SCHEMA.items())
        .sort(
            [pl.col("effect").abs(), "target", "question"],
            descending=[True, False, False],
            nulls_last=True,
        )
        .collect()
    )


def _default_label() -> pl.Expr:
    """A question's label when its intervention has none: its kind and target, or the fork
    point alone."""
    intervention = pl.format("{} {}", pl.col("kind"), pl.col("target").cast(pl.String()))
    return pl.coalesce(
        intervention,
        pl.col("kind"),
        pl.format("fork at {}", pl.col("at").cast(pl.String())),
    )


def _left_out(data: RunData, loaded: pl.DataFrame) -> pl.DataFrame:
    """The fork episodes under the run's root that were not loaded (degraded without
    ``include_degraded``, failed, unfinished, damaged), counted per (question, arm), with
    their questions' records (:data:`FORK_SCHEMA` and ``left_out``).

    Reads every manifest under the root again: the frames hold only the episodes read."""
    listing = list_episodes(data.root)
    discovery = discover(listing)
    manifests: dict[str, Mapping[str, Any]] = {m["episode_id"]: m for _, m in discovery.played}
    played = {directory for directory, _ in discovery.played}
    for directory in listing.episode_dirs:
        if directory not in played:
            manifest = _manifest(directory / MANIFEST)
            if manifest is not None:
                manifests.setdefault(manifest["episode_id"], manifest)
    ids = set(loaded.get_column("episode_id").to_list())
    counts: Counter[tuple[Any, ...]] = Counter()
    for episode_id, record_of in manifests.items():
        fork = record_of.get("fork")
        if episode_id in ids or not isinstance(fork, Mapping) or fork.get("question") is None:
            continue
        intervention = fork.get("intervention")
        intervention = intervention if isinstance(intervention, Mapping) else {}
        record = (
            str(fork["question"]),
            fork.get("arm"),
            None,
            fork.get("at"),
            fork.get("parent"),
            *(intervention.get(n) for n in ("kind", "target", "actor", "label")),
        )
        counts[record] += 1
    schema = {**FORK_SCHEMA, "left_out": pl.Int64()}
    return pl.DataFrame([(*record, n) for record, n in counts.items()], schema=schema, orient="row")


def _manifest(path: Path) -> dict[str, Any] | None:
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if isinstance(manifest, dict) and isinstance(manifest.get("episode_id"), str):
        return manifest
    return None


# --- the group's tables --------------------------------------------------------------------------


def summaries(data: RunData, by: Sequence[str]) -> list[Table]:
    """The influence ranking (one row per question) and one table per question of every
    outcome's effect, in that ranking's order; one titled line when the run holds no fork.
    ``by`` does not split them: the questions are the split."""
    fork = forks(data)
    if fork.is_empty():
        title = (
            f"causal: no fork episodes in {data.root} (traitors fork and traitors influence "
            "write them)"
        )
        return [Table("causal", title, pl.DataFrame(), ())]
    long = per_episode(data)
    effect = _effects(long)
    ranking = _influence(fork, long, effect, _left_out(data, fork))
    effect = _ordered(effect, ranking.get_column("question").to_list())
    vote = phrase(public_vote_purposes(data), "public elimination")
    title = (
        f"Causal influence: effect of each intervention on who the next {vote} vote decides "
        "(treated - control, Newcombe 95% interval), most influential first"
    )
    summary = ranking.with_columns(pl.int_range(1, pl.len() + 1).alias("rank")).select(
        "rank", pl.exclude("rank")
    )
    result = [Table("causal_influence", title, summary, ("rank", "question"))]
    for row in ranking.iter_rows(named=True):
        rows = effect.filter(pl.col("question") == row["question"]).drop("question")
        result.append(Table(_table_name(row["question"]), _question_title(row), rows, KEYS))
    return result


KEYS = ("outcome", "subject")
"""The key columns of a question's table."""


def _table_name(question: str) -> str:
    return "causal_" + re.sub(r"[^A-Za-z0-9_.-]", "_", question)


def _question_title(row: Mapping[str, Any]) -> str:
    left_out = (
        f"; left out (not complete): {row['left_out_treated']} treated, "
        f"{row['left_out_control']} control"
        if row["left_out_treated"] or row["left_out_control"]
        else ""
    )
    return (
        f"Causal effects of {row['label']} (question {row['question']}, fork at event "
        f"{row['at']} of {row['parent']}; treated - control, 95% interval){left_out}"
    )
