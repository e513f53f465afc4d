"""Episodes as team games between models, for the deception and detection ratings.

A game is one complete episode with both sides seated: the seats of the initial hidden side
against the seats of the initial uncovering side, each seat named by its label (its model,
or its policy when it called no model). An entity is (label, kind): kind ``deception`` for a
hidden seat and ``detection`` for an uncovering one in the side ratings, ``overall`` for
every seat in the overall rating. A team lists one entity per seat, so a model holding two
seats counts twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from analysis.loader import RunData
from analysis.tables import unique_columns

DECEPTION, DETECTION, OVERALL = "deception", "detection", "overall"
"""The rating kinds: as the hidden side, as the uncovering side, and either."""
Entity = tuple[str, str]
"""(label, kind)."""
Teams = tuple[tuple[Entity, ...], tuple[Entity, ...]]
"""The hidden side's team and the uncovering side's, one entity per seat."""
GroupKey = tuple[object, ...]
"""The values of the ``by`` factors of a group of episodes (empty when pooled)."""


@dataclass(frozen=True)
class TeamGame:
    """One episode as a match between the labels of the two sides' seats."""

    hidden: tuple[str, ...]
    """The labels of the hidden side's seats (sorted)."""
    uncovering: tuple[str, ...]
    """The labels of the uncovering side's seats (sorted)."""
    hidden_score: float
    """1 if the hidden side won, 0 if it lost, 0.5 for a draw (no winner)."""


def side_teams(game: TeamGame) -> Teams:
    """Entities of the deception and detection ratings: (label, deception) per hidden seat,
    (label, detection) per uncovering seat."""
    return (
        tuple((label, DECEPTION) for label in game.hidden),
        tuple((label, DETECTION) for label in game.uncovering),
    )


def overall_teams(game: TeamGame) -> Teams:
    """Entities of the overall rating: (label, overall) per seat, whichever side."""
    return (
        tuple((label, OVERALL) for label in game.hidden),
        tuple((label, OVERALL) for label in game.uncovering),
    )


TeamsOf = Callable[[TeamGame], Teams]


def team_games(data: RunData, by: Sequence[str] = ()) -> dict[GroupKey, list[TeamGame]]:
    """The complete episodes with both sides seated as games, in the order they were played
    (start time, then id), per group of the ``by`` factors (one group when pooled).

    An episode whose status is not ``complete`` (degraded, even when the loader kept it with
    ``include_degraded``) is left out: it was not played as specified.
    """
    factors = list(dict.fromkeys(by))
    seats = data.players.drop_nulls("hidden").select("episode_id", "label", "hidden").collect()
    teams: dict[str, dict[bool, list[str]]] = {}
    for episode_id, label, hidden in seats.sort("label").iter_rows():
        teams.setdefault(str(episode_id), {}).setdefault(hidden, []).append(label)
    columns = unique_columns("episode_id", "winner", "hidden_factions", "started_at", *factors)
    episodes = (
        data.episodes.filter(pl.col("status") == "complete")
        .select(columns)
        .sort("started_at", "episode_id")
        .collect()
    )
    groups: dict[GroupKey, list[TeamGame]] = {}
    for episode in episodes.iter_rows(named=True):
        team = teams.get(str(episode["episode_id"]), {})
        if team.get(True) and team.get(False):
            winner = episode["winner"]
            score = 0.5 if winner is None else float(winner in episode["hidden_factions"])
            game = TeamGame(tuple(team[True]), tuple(team[False]), score)
            key = tuple(episode[factor] for factor in factors)
            groups.setdefault(key, []).append(game)
    return dict(sorted(groups.items(), key=lambda item: tuple(map(str, item[0]))))


def labels(games: Sequence[TeamGame]) -> list[str]:
    """Every label seated in ``games``, sorted."""
    return sorted({label for game in games for label in (*game.hidden, *game.uncovering)})


def games_on_side(games: Sequence[TeamGame], label: str, hidden: bool) -> int:
    """Games in which ``label`` held at least one seat of the hidden (or uncovering) side."""
    return sum(label in (game.hidden if hidden else game.uncovering) for game in games)
