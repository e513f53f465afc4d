"""Outcome: who won, with Wilson 95% intervals, and how long the hidden side survived.

The factions are each scenario's own, from its manifests' words, then any other winner found
in the logs.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from analysis import sides
from analysis.loader import RunData
from analysis.summary import Table, grouped, wilson_interval
from analysis.tables import hidden_fates, unique_columns


def per_episode(data: RunData) -> pl.DataFrame:
    """(episode_id, winner, rounds, truncated) from the manifests."""
    return data.episodes.select("episode_id", "winner", "rounds", "truncated").collect()


def factions(data: RunData) -> list[str]:
    """The factions of the loaded scenarios, then any other faction that won, in that order."""
    return sides.factions(data)


def win_rates(data: RunData, by: Sequence[str]) -> pl.DataFrame:
    """Episodes, wins per faction with Wilson 95% intervals, draws and mean rounds per group."""
    names = factions(data)
    frame = data.episodes.select(unique_columns(*by, "winner", "rounds"))
    counts = grouped(
        frame,
        by,
        [
            pl.len().alias("episodes"),
            *((pl.col("winner") == name).sum().alias(f"{name}_wins") for name in names),
            pl.col("winner").is_null().sum().alias("draws"),
            pl.col("rounds").mean().alias("mean_rounds"),
        ],
    )
    columns = []
    for name in names:
        wins = pl.col(f"{name}_wins")
        low, high = wilson_interval(wins, pl.col("episodes"))
        columns += [
            (wins / pl.col("episodes")).alias(f"{name}_win_rate"),
            low.alias(f"{name}_win_low"),
            high.alias(f"{name}_win_high"),
        ]
    return counts.with_columns(columns).collect()


def hidden_survival(data: RunData, by: Sequence[str]) -> pl.DataFrame:
    """Share of the hidden side's initial members not yet removed at the end of each round,
    per group: ``initial`` members, ``surviving``, ``survival``.

    A game that ended keeps its final state in the later rounds.
    """
    fates = hidden_fates(data, by)
    rounds = fates.select(pl.int_range(0, pl.col("rounds").max().fill_null(0) + 1).alias("round"))
    grid = fates.join(rounds, how="cross").with_columns(
        alive=pl.col("removed_round").is_null() | (pl.col("removed_round") > pl.col("round"))
    )
    return (
        grouped(
            grid,
            [*by, "round"],
            [pl.len().alias("initial"), pl.col("alive").sum().alias("surviving")],
        )
        .with_columns(survival=pl.col("surviving") / pl.col("initial"))
        .collect()
    )


def summaries(data: RunData, by: Sequence[str]) -> list[Table]:
    """The outcome group's tables (survival only when the games have a hidden side and
    eliminate players: in a game without eliminations it would be constant)."""
    title = "Outcome: win rates with Wilson 95% intervals"
    tables = [Table("outcome", title, win_rates(data, by), tuple(by))]
    eliminations = data.events.filter(pl.col("kind") == "eliminate").select(pl.len())
    survival = hidden_survival(data, by) if eliminations.collect().item() else pl.DataFrame()
    if survival.height:
        hidden = sides.phrase(sides.hidden(data), "hidden side")
        title = (
            f"{sides.capitalized(hidden)} survival: share of the initial {hidden} left after "
            "each round"
        )
        tables.append(Table("hidden_survival", title, survival, (*by, "round")))
    return tables
