"""Outcome: who won, with Wilson 95% intervals, and how long the traitors survived."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from analysis.loader import RunData
from analysis.summary import Table, grouped, wilson_interval
from analysis.tables import traitor_fates

FACTIONS: dict[str, tuple[str, ...]] = {
    "the_traitors": ("faithful", "traitors"),
    "werewolf": ("villagers", "werewolves"),
    "principal_agent": ("customer", "company"),
}
"""Each scenario's factions, as its manifests' ``outcome.winner`` names them."""


def per_episode(data: RunData) -> pl.DataFrame:
    """(episode_id, winner, rounds, truncated) from the manifests."""
    return data.episodes.select("episode_id", "winner", "rounds", "truncated").collect()


def factions(data: RunData) -> list[str]:
    """The factions of the loaded scenarios, then any other faction that won, in that order."""
    frame = data.episodes.select("scenario", "winner").collect()
    known = [
        f for s in sorted(frame["scenario"].drop_nulls().unique()) for f in FACTIONS.get(s, ())
    ]
    others = sorted(set(frame["winner"].drop_nulls()) - set(known))
    return list(dict.fromkeys([*known, *others]))


def win_rates(data: RunData, by: Sequence[str]) -> pl.DataFrame:
    """Episodes, wins per faction with Wilson 95% intervals, draws and mean rounds per group."""
    names = factions(data)
    frame = data.episodes.select(*by, "winner", "rounds")
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


def traitor_survival(data: RunData, by: Sequence[str]) -> pl.DataFrame:
    """Share of the initial traitors not yet removed at the end of each round, per group.

    A game that ended keeps its final state in the later rounds.
    """
    fates = traitor_fates(data, by)
    rounds = fates.select(pl.int_range(0, pl.col("rounds").max().fill_null(0) + 1).alias("round"))
    grid = fates.join(rounds, how="cross").with_columns(
        alive=pl.col("removed_round").is_null() | (pl.col("removed_round") > pl.col("round"))
    )
    return (
        grouped(
            grid,
            [*by, "round"],
            [pl.len().alias("traitors"), pl.col("alive").sum().alias("surviving")],
        )
        .with_columns(survival=pl.col("surviving") / pl.col("traitors"))
        .collect()
    )


def summaries(data: RunData, by: Sequence[str]) -> list[Table]:
    """The outcome group's tables (survival only when the runs have traitors)."""
    title = "Outcome: win rates with Wilson 95% intervals"
    tables = [Table("outcome", title, win_rates(data, by), tuple(by))]
    survival = traitor_survival(data, by)
    if survival.height:
        title = "Traitor survival: share of initial traitors left after each round"
        tables.append(Table("traitor_survival", title, survival, (*by, "round")))
    return tables
