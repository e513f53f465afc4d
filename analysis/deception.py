"""Deception success: how often the hidden side steers the public vote onto the uncovering side.

The hidden side is every faction the scenario's words mark hidden; a player counts for the
side of the role held at the time. The public eliminations are those decided by the public
elimination vote (the table's vote, whatever the game calls it): see ``analysis.tables``.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from analysis import sides
from analysis.loader import RunData
from analysis.summary import Table, grouped, summarize
from analysis.tables import (
    eliminations,
    hidden_fates,
    public_claims,
    public_votes,
    round_beliefs,
)

METRICS = (
    "misdirected_elimination_rate",
    "coordinated_misdirection_rate",
    "accusation_success",
    "belief_shift",
)


def per_episode(data: RunData) -> pl.DataFrame:
    """One row per episode with every metric of :data:`METRICS` (null where undefined)."""
    frame = data.episodes.select("episode_id")
    for metric in (_public_eliminations(data), *_accusations(data)):
        frame = frame.join(metric, on="episode_id", how="left")
    return frame.select("episode_id", *METRICS).collect()


def hidden_hazard(data: RunData, by: Sequence[str]) -> pl.DataFrame:
    """Per group and round: the hidden side's initial members at risk in that round's public
    vote (``at_risk``), and those it eliminated (``eliminated``).

    At risk: the game reached round r's vote (it lasted r rounds or more) and the player had
    not been removed before round r.
    """
    fates = hidden_fates(data, by)
    rounds = fates.select(pl.int_range(1, pl.col("rounds").max().fill_null(0) + 1).alias("round"))
    at_risk = fates.join(rounds, how="cross").filter(
        (pl.col("rounds") >= pl.col("round"))
        & (pl.col("removed_round").is_null() | (pl.col("removed_round") >= pl.col("round")))
    )
    eliminated = (pl.col("removed_round") == pl.col("round")) & pl.col("removed_publicly")
    return (
        grouped(
            at_risk,
            [*by, "round"],
            [pl.len().alias("at_risk"), eliminated.sum().alias("eliminated")],
        )
        .with_columns(hazard=pl.col("eliminated") / pl.col("at_risk"))
        .collect()
    )


def _removed_publicly(data: RunData) -> pl.LazyFrame:
    return eliminations(data).lazy().filter(pl.col("public"))


def _public_eliminations(data: RunData) -> pl.LazyFrame:
    """Misdirected and coordinated public eliminations."""
    removed = _removed_publicly(data)
    hidden_ballots = public_votes(data).filter(pl.col("deciding") & pl.col("voter_hidden"))
    united = hidden_ballots.group_by("episode_id", "round", pl.col("purpose").alias("cause")).agg(
        united=(pl.col("target") == pl.col("decided")).fill_null(False).all()
    )
    rows = removed.join(united, on=["episode_id", "round", "cause"], how="left")
    misdirected = ~pl.col("target_hidden")
    return rows.group_by("episode_id").agg(
        misdirected.mean().alias("misdirected_elimination_rate"),
        (misdirected & pl.col("united").fill_null(False))
        .mean()
        .alias("coordinated_misdirection_rate"),
    )


def _accusations(data: RunData) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Accusation success and belief shift, over the hidden side's accusations of the
    uncovering side."""
    accusations = (
        public_claims(data, "accuse")
        .lazy()
        .filter(pl.col("actor_hidden") & ~pl.col("target_hidden"))
        .unique(["episode_id", "round", "actor", "target"])
    )
    removed = _removed_publicly(data)
    # Where no public vote was ever held (a game without one), no accusation could succeed:
    # undefined, not 0.
    voted = public_votes(data).select("episode_id").unique()
    success = (
        accusations.join(voted, on="episode_id", how="semi")
        .join(
            removed.select("episode_id", "round", "target", removed=pl.lit(True)).unique(),
            on=["episode_id", "round", "target"],
            how="left",
        )
        .group_by("episode_id")
        .agg(pl.col("removed").fill_null(False).mean().alias("accusation_success"))
    )
    beliefs = round_beliefs(data).lazy().filter(~pl.col("observer_hidden"))
    now = beliefs.select("episode_id", "round", "observer", "target", "p")
    before = now.with_columns(pl.col("round") + 1).rename({"p": "p_before"})
    shifts = (
        accusations.select("episode_id", "round", "actor", "target")
        .join(now, on=["episode_id", "round", "target"])
        .join(before, on=["episode_id", "round", "observer", "target"])
        .filter(pl.col("observer") != pl.col("actor"))
        .group_by("episode_id")
        .agg((pl.col("p") - pl.col("p_before")).mean().alias("belief_shift"))
    )
    return success, shifts


def summaries(data: RunData, by: Sequence[str]) -> list[Table]:
    """The deception group's tables (the hazard only when the logs hold a public elimination
    vote: in a game without one, nobody is ever at risk)."""
    hidden = sides.phrase(sides.hidden(data), "hidden side")
    tables = [
        Table(
            "deception",
            f"Deception success of the {hidden} (means over episodes)",
            summarize(per_episode(data), data, by),
            tuple(by),
        )
    ]
    votes = sides.public_vote_purposes(data)
    if votes:
        title = f"{sides.capitalized(hidden)} eliminated by the {'/'.join(votes)} vote: hazard"
        tables.append(
            Table("hidden_hazard", f"{title} per round", hidden_hazard(data, by), (*by, "round"))
        )
    return tables
