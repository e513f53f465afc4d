"""Spy's analysis plug-in: its own metric group (``spy``), a figure, and the facts its rules
text states. Registered from ``tests/conftest.py`` with ``register_analysis``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from analysis.figures import Words, rate_bars
from analysis.loader import RunData
from analysis.plugin import Figure, GameAnalysis
from analysis.summary import Table, grouped, row_labels, wilson_interval
from analysis.tables import unique_columns
from fifth_game.rules import SPY, TIE_WORDS, VOTE_OUT
from traitors.game.rules_text import StatedChoice, always, number, rule


def per_episode(data: RunData) -> pl.DataFrame:
    """(episode_id, caught, ballots_on_spy): whether the vote put the spy out, and the share
    of the ballots cast that named the spy, of every Spy episode."""
    spies = data.players.filter(pl.col("role") == SPY).select("episode_id", spy="player")
    episodes = data.episodes.filter(pl.col("scenario") == "spy").select("episode_id")
    ballots = (
        data.events.filter((pl.col("kind") == "vote") & (pl.col("purpose") == VOTE_OUT))
        .join(spies, on="episode_id")
        .group_by("episode_id")
        .agg(ballots_on_spy=(pl.col("target") == pl.col("spy")).mean())
    )
    out = (
        data.events.filter((pl.col("kind") == "eliminate") & (pl.col("cause") == VOTE_OUT))
        .join(spies, on="episode_id")
        .group_by("episode_id")
        .agg(caught=(pl.col("target") == pl.col("spy")).any())
    )
    return (
        episodes.join(out, on="episode_id", how="left")
        .join(ballots, on="episode_id", how="left")
        .select("episode_id", pl.col("caught").fill_null(False), "ballots_on_spy")
        .sort("episode_id")
        .collect()
    )


def summaries(data: RunData, by: Sequence[str]) -> list[Table]:
    """The spy group's table: how often the vote catches the spy (Wilson 95% interval)."""
    factors = data.episodes.select(unique_columns("episode_id", *by)).collect()
    frame = per_episode(data).join(factors, on="episode_id", how="left")
    counts = grouped(
        frame,
        list(by),
        [
            pl.len().alias("episodes"),
            pl.col("caught").sum().alias("caught"),
            pl.col("ballots_on_spy").mean(),
        ],
    ).filter(pl.col("episodes") > 0)
    low, high = wilson_interval(pl.col("caught"), pl.col("episodes"))
    frame = counts.with_columns(
        caught_rate=pl.col("caught") / pl.col("episodes"), caught_low=low, caught_high=high
    )
    title = "Spy: how often the vote catches the spy (Wilson 95% interval)"
    return [Table("spy_caught", title, frame, tuple(by))]


def draw_caught(
    figure: Any, frame: pl.DataFrame, by: Sequence[str], title: str, words: Words
) -> None:
    rate_bars(figure, frame, row_labels(frame, by), [("caught", "caught", None)], "rate", title)


RULE_FACTS = (
    number("players", r"Spy with (\w+) players", rule("n_players")),
    always("hidden role", "one of them is secretly the spy"),
    StatedChoice("tie rule", TIE_WORDS, rule("tie")),
)

ANALYSIS = GameAnalysis(
    groups={"spy": summaries},
    rule_facts=RULE_FACTS,
    figures=(Figure("spy_caught", "How often the vote catches the spy", draw_caught),),
)
"""Spy's analysis plug-in: the generic groups fit it (its words mark the spies hidden), and
``spy`` is its own."""
