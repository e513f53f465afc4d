"""Item tables the metric groups share: votes, eliminations, claims and beliefs with roles.

Roles come from the log's ``role`` events (setup, then any recruitment): an item is given the
role its player held at that moment (the last role event at or before the item's ``seq``),
with that role's faction and whether the faction is ``hidden`` (the deceiving side), from the
episode's words (the ``roles`` frame).

The generic groups never name a game's words. A vote is an **elimination vote** when its
purpose is an elimination cause of the episode (a cause its words name, or that one of its
``eliminate`` events gives). The **public elimination vote** is one whose ballots are public
(the table's vote, where the uncovering side can act on its suspicion); the others are the
hidden side's. An elimination is dated to the round of the ballot that decided it (a game may
log a night's elimination in the next round).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Concatenate, ParamSpec

import polars as pl

from analysis.loader import RunData

P = ParamSpec("P")


def shared(
    table: Callable[Concatenate[RunData, P], pl.DataFrame],
) -> Callable[Concatenate[RunData, P], pl.DataFrame]:
    """Compute ``table(data, *args)`` once per loaded run: several groups use the same tables
    (and may ask for one at the same time, from threads)."""

    @functools.wraps(table)
    def once(data: RunData, /, *args: P.args, **kwargs: P.kwargs) -> pl.DataFrame:
        key = (table.__module__, table.__qualname__, *args, *sorted(kwargs.items()))
        return data.memo.get(key, lambda: table(data, *args, **kwargs))

    return once


@shared
def role_timeline(data: RunData) -> pl.DataFrame:
    """(episode_id, seq, player, role, faction, hidden): every role a player was given, in
    order, with its faction (null for a role the episode's words do not declare)."""
    return (
        data.events.filter(pl.col("kind") == "role")
        .select("episode_id", "seq", "player", "role")
        .join(data.roles, on=["episode_id", "role"], how="left", maintain_order="left")
        .collect()
    )


def with_role(
    frame: pl.LazyFrame, roles: pl.DataFrame, player: str, prefix: str, seq: str = "seq"
) -> pl.LazyFrame:
    """Add ``<prefix>_role``, ``<prefix>_faction`` and ``<prefix>_hidden`` (``role``,
    ``faction`` and ``hidden`` for an empty prefix): what ``player`` was at ``seq`` (the last
    role event before it).

    ``frame`` must be in ``seq`` order within each episode (as the logs are); its row order is
    kept.
    """
    name = (lambda column: f"{prefix}_{column}") if prefix else (lambda column: column)
    timeline = roles.lazy().select(
        "episode_id",
        pl.col("seq").alias("_role_seq"),
        pl.col("player").alias(player),
        *(pl.col(c).alias(name(c)) for c in ("role", "faction", "hidden")),
    )
    joined = frame.join_asof(
        timeline,
        left_on=seq,
        right_on="_role_seq",
        by=["episode_id", player],
        check_sortedness=False,
    )
    return joined.drop("_role_seq")


@shared
def elimination_purposes(data: RunData) -> pl.DataFrame:
    """(episode_id, purpose): the elimination causes of each episode, from its words and its
    ``eliminate`` events; a vote with one of them as purpose is an elimination vote."""
    named = data.episodes.select("episode_id", purpose=pl.col("elimination_causes")).explode(
        "purpose"
    )
    seen = data.events.filter(pl.col("kind") == "eliminate").select(
        "episode_id", pl.col("cause").cast(pl.String()).alias("purpose")
    )
    return (
        pl.concat([named.drop_nulls("purpose"), seen.drop_nulls("purpose")])
        .unique()
        .with_columns(pl.col("purpose").cast(pl.Categorical()))
        .collect()
    )


@shared
def votes(data: RunData) -> pl.DataFrame:
    """One row per ballot cast, with both roles and what the ballot decided.

    ``decided`` is the ballot's chosen target (null when it led to a re-vote or no choice);
    ``deciding`` marks the ballots that chose someone; ``public`` the ballots everyone saw;
    ``elimination`` the ballots of an elimination vote.
    """
    cast = data.events.filter(pl.col("kind") == "vote").select(
        "episode_id",
        "seq",
        "round",
        "phase",
        "purpose",
        "ballot",
        pl.col("actor").alias("voter"),
        "target",
        public=pl.col("visibility") == "public",
    )
    results = data.events.filter(pl.col("kind") == "vote_result").select(
        "episode_id", "round", "purpose", "ballot", "decided"
    )
    purposes = elimination_purposes(data).lazy().with_columns(elimination=pl.lit(True))
    ballots = (
        cast.join(
            results,
            on=["episode_id", "round", "purpose", "ballot"],
            how="left",
            maintain_order="left",
        )
        .join(purposes, on=["episode_id", "purpose"], how="left", maintain_order="left")
        .with_columns(
            deciding=pl.col("decided").is_not_null(),
            elimination=pl.col("elimination").fill_null(False),
        )
    )
    roles = role_timeline(data)
    return _target_role(with_role(ballots, roles, "voter", "voter"), roles).collect()


def public_votes(data: RunData) -> pl.LazyFrame:
    """The ballots of the public elimination votes (abstentions included)."""
    return votes(data).lazy().filter(pl.col("public") & pl.col("elimination"))


@shared
def eliminations(data: RunData) -> pl.DataFrame:
    """(episode_id, seq, round, cause, target, target_role, target_faction, target_hidden,
    public): every elimination.

    ``round`` is the round of the ballot that decided it (the last deciding ballot before it
    whose purpose is its cause and whose choice is its target; the event's own round when no
    vote decided it); ``public`` marks the eliminations decided by a public vote.
    """
    removed = data.events.filter(pl.col("kind") == "eliminate").select(
        "episode_id", "seq", "round", "cause", "target"
    )
    deciding = data.events.filter(
        (pl.col("kind") == "vote_result") & pl.col("decided").is_not_null()
    ).select(
        "episode_id",
        pl.col("seq").alias("_vote_seq"),
        pl.col("round").alias("_vote_round"),
        pl.col("purpose").cast(pl.String()).alias("cause"),
        pl.col("decided").cast(pl.String()).alias("target"),
        (pl.col("visibility") == "public").alias("public"),
    )
    frame = (
        removed.with_columns(pl.col("cause", "target").cast(pl.String()))
        .join_asof(
            deciding,
            left_on="seq",
            right_on="_vote_seq",
            by=["episode_id", "cause", "target"],
            check_sortedness=False,
        )
        .select(
            "episode_id",
            "seq",
            pl.coalesce("_vote_round", "round").alias("round"),
            pl.col("cause").cast(pl.Categorical()),
            pl.col("target").cast(pl.Categorical()),
            pl.col("public").fill_null(False),
        )
    )
    return _target_role(frame, role_timeline(data)).collect()


def hidden_fates(data: RunData, by: Sequence[str]) -> pl.LazyFrame:
    """The initial members of the hidden side, with the round they were removed (null:
    never), whether a public vote removed them, and their game's length."""
    removed = (
        eliminations(data)
        .lazy()
        .select(
            "episode_id",
            pl.col("target").alias("player"),
            pl.col("round").alias("removed_round"),
            pl.col("public").alias("removed_publicly"),
        )
    )
    hidden = data.players.filter(pl.col("hidden")).select("episode_id", "player")
    games = data.episodes.select(unique_columns("episode_id", "rounds", *by))
    return hidden.join(removed, on=["episode_id", "player"], how="left").join(
        games, on="episode_id"
    )


@shared
def public_claims(data: RunData, claim: str) -> pl.DataFrame:
    """Public claims of one kind (``accuse``, ``defend``, ``claim_role``) with both roles."""
    frame = data.claims.filter(
        (pl.col("claim") == claim) & (pl.col("visibility") == "public")
    ).drop("visibility", "claim")
    roles = role_timeline(data)
    return _target_role(with_role(frame, roles, "actor", "actor"), roles).collect()


@shared
def beliefs(data: RunData) -> pl.DataFrame:
    """Every reported P(hidden side), with the observer's role and the target's true role."""
    roles = role_timeline(data)
    frame = with_role(data.beliefs, roles, "observer", "observer")
    return _target_role(frame, roles).collect()


@shared
def round_beliefs(data: RunData) -> pl.DataFrame:
    """Each observer's last belief report of each round (the probe after the discussion)."""
    frame = beliefs(data)
    # A report's rows are adjacent (the frame is in seq order per episode): number the
    # reports, keep the last of each (episode, round, observer), then the rows of those.
    starts = (pl.col("seq") != pl.col("seq").shift(1)) | (
        pl.col("episode_id") != pl.col("episode_id").shift(1)
    )
    report = frame.select(starts.fill_null(True).alias("start"))["start"]
    last = frame.filter(report).select(
        pl.struct("episode_id", "round", "observer").is_last_distinct()
    )
    return frame.filter(last.to_series().gather(report.cum_sum() - 1))


def unique_columns(*names: str) -> list[str]:
    """``names`` without repeats, in order: a factor may also be a key column
    (``--by episode_id``)."""
    return list(dict.fromkeys(names))


def _target_role(frame: pl.LazyFrame, roles: pl.DataFrame) -> pl.LazyFrame:
    return with_role(frame, roles, "target", "target")
