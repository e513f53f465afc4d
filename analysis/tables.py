"""Item tables the metric groups share: votes, eliminations, claims and beliefs with roles.

Roles come from the log's ``role`` events (setup, then any recruitment): an item is given the
role its player held at that moment (the last role event at or before the item's ``seq``).
A murder is dated to the round of the murder vote (its event is logged at the next
breakfast, one round later).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Concatenate, ParamSpec

import polars as pl

from analysis.loader import RunData

TRAITOR = "traitor"
FAITHFUL = "faithful"

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
    """(episode_id, seq, player, role): every role a player was given, in order."""
    return (
        data.events.filter(pl.col("kind") == "role")
        .select("episode_id", "seq", "player", "role")
        .collect()
    )


def with_role(
    frame: pl.LazyFrame, roles: pl.DataFrame, player: str, alias: str, seq: str = "seq"
) -> pl.LazyFrame:
    """Add ``alias``: the role ``player`` held at ``seq`` (the last role event before it).

    ``frame`` must be in ``seq`` order within each episode (as the logs are); its row order is
    kept.
    """
    timeline = roles.lazy().select(
        "episode_id",
        pl.col("seq").alias("_role_seq"),
        pl.col("player").alias(player),
        pl.col("role").alias(alias),
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
def votes(data: RunData) -> pl.DataFrame:
    """One row per ballot cast, with both roles and what the ballot decided.

    ``decided`` is the ballot's chosen target (null when it led to a re-vote or no choice);
    ``deciding`` marks the ballots that chose someone.
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
    )
    results = data.events.filter(pl.col("kind") == "vote_result").select(
        "episode_id", "round", "purpose", "ballot", "decided"
    )
    ballots = cast.join(
        results,
        on=["episode_id", "round", "purpose", "ballot"],
        how="left",
        maintain_order="left",
    ).with_columns(deciding=pl.col("decided").is_not_null())
    roles = role_timeline(data)
    return _target_role(with_role(ballots, roles, "voter", "voter_role"), roles).collect()


@shared
def eliminations(data: RunData) -> pl.DataFrame:
    """(episode_id, seq, round, how, target, target_role): banishments and murders.

    ``round`` is the round whose vote removed the player.
    """
    frame = data.events.filter(pl.col("kind").is_in(["banish", "murder"])).select(
        "episode_id",
        "seq",
        pl.when(pl.col("kind") == "murder")
        .then(pl.col("round") - 1)
        .otherwise(pl.col("round"))
        .alias("round"),
        pl.col("kind").alias("how"),
        "target",
    )
    return _target_role(frame, role_timeline(data)).collect()


def traitor_fates(data: RunData, by: Sequence[str]) -> pl.LazyFrame:
    """Initial traitors with the round they were removed (null: never) and their game's length."""
    removed = (
        eliminations(data)
        .lazy()
        .select(
            "episode_id", pl.col("target").alias("player"), pl.col("round").alias("removed_round")
        )
    )
    traitors = data.players.filter(pl.col("role") == TRAITOR).select("episode_id", "player")
    games = data.episodes.select("episode_id", "rounds", *by)
    return traitors.join(removed, on=["episode_id", "player"], how="left").join(
        games, on="episode_id"
    )


@shared
def public_claims(data: RunData, claim: str) -> pl.DataFrame:
    """Public claims of one kind (``accuse``, ``defend``, ``claim_role``) with both roles."""
    frame = data.claims.filter(
        (pl.col("claim") == claim) & (pl.col("visibility") == "public")
    ).drop("visibility", "claim")
    roles = role_timeline(data)
    return _target_role(with_role(frame, roles, "actor", "actor_role"), roles).collect()


@shared
def beliefs(data: RunData) -> pl.DataFrame:
    """Every reported P(traitor), with the observer's role and the target's true role."""
    roles = role_timeline(data)
    frame = with_role(data.beliefs, roles, "observer", "observer_role")
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


def _target_role(frame: pl.LazyFrame, roles: pl.DataFrame) -> pl.LazyFrame:
    return with_role(frame, roles, "target", "target_role")
