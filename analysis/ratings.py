"""Elo ratings per (model, role) across episodes, with a bootstrap interval.

Each episode is one game between two teams: the initial traitors and the initial faithful.
A seat's entity is (label, role), its label being its model (or its policy when no model
played). A team's rating is the mean of its entities' ratings; every entity of a team moves
by K * (S - E) with the team's score S (1 win, 0.5 draw, 0 loss) and expected score E.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from analysis.loader import RunData
from analysis.summary import Table
from analysis.tables import FAITHFUL, TRAITOR

START = 1500.0
K = 32.0
BOOTSTRAP = 200
"""Bootstrap resamples (episodes drawn with replacement, in a random order)."""
WINNERS = {"traitors": TRAITOR, "faithful": FAITHFUL}
"""Manifest winner -> the role whose team won."""

Entity = tuple[str, str]
"""(label, role)."""
RATING_SCHEMA: dict[str, pl.DataType] = {
    "label": pl.String(),
    "role": pl.String(),
    "games": pl.Int64(),
    "elo": pl.Float64(),
    "elo_mean": pl.Float64(),
    "elo_low": pl.Float64(),
    "elo_high": pl.Float64(),
}


@dataclass(frozen=True)
class Game:
    """One episode as a match between the traitors' and the faithful's entities."""

    traitors: tuple[Entity, ...]
    faithful: tuple[Entity, ...]
    traitor_score: float
    """1 if the traitors won, 0 if the faithful did, 0.5 for a draw."""


def expected_score(rating: float, opponent: float) -> float:
    """Elo expected score of ``rating`` against ``opponent``."""
    return 1 / (1 + 10 ** ((opponent - rating) / 400))


def elo(games: Sequence[Game], k: float = K, start: float = START) -> dict[Entity, float]:
    """Ratings after playing ``games`` in order."""
    ratings: dict[Entity, float] = {}
    for game in games:
        teams = (game.traitors, game.faithful)
        means = [sum(ratings.get(e, start) for e in team) / len(team) for team in teams]
        scores = (game.traitor_score, 1 - game.traitor_score)
        for team, mean, other, score in zip(teams, means, reversed(means), scores, strict=True):
            change = k * (score - expected_score(mean, other))
            for entity in team:
                ratings[entity] = ratings.get(entity, start) + change
    return ratings


def games(data: RunData) -> list[Game]:
    """Every episode as a game, in the order they were played (start time, then id)."""
    players = data.players.select("episode_id", "label", "role").unique().collect()
    teams: dict[str, dict[str, list[Entity]]] = {}
    for episode_id, label, role in players.sort("label").iter_rows():
        teams.setdefault(episode_id, {}).setdefault(role, []).append((label, role))
    episodes = data.episodes.select("episode_id", "winner", "started_at").collect()
    played = []
    for episode_id, winner, _ in episodes.sort("started_at", "episode_id").iter_rows():
        team = teams.get(episode_id, {})
        if TRAITOR in team and FAITHFUL in team:
            score = 0.5 if winner is None else float(WINNERS.get(winner) == TRAITOR)
            played.append(Game(tuple(team[TRAITOR]), tuple(team[FAITHFUL]), score))
    return played


def ratings(data: RunData, resamples: int = BOOTSTRAP, seed: int = 0) -> pl.DataFrame:
    """label, role, games, elo (in play order), and the bootstrap mean and 95% interval."""
    played = games(data)
    point = elo(played)
    rng = random.Random(seed)
    samples: dict[Entity, list[float]] = {entity: [] for entity in point}
    for _ in range(resamples):
        for entity, rating in elo(rng.choices(played, k=len(played))).items():
            samples[entity].append(rating)
    counts: dict[Entity, int] = {}
    for game in played:
        for entity in {*game.traitors, *game.faithful}:
            counts[entity] = counts.get(entity, 0) + 1
    rows = []
    for (label, role), rating in sorted(point.items()):
        draws = sorted(samples[(label, role)]) or [rating]
        rows.append(
            {
                "label": label,
                "role": role,
                "games": counts[(label, role)],
                "elo": rating,
                "elo_mean": sum(draws) / len(draws),
                "elo_low": _quantile(draws, 0.025),
                "elo_high": _quantile(draws, 0.975),
            }
        )
    return pl.DataFrame(rows, schema=RATING_SCHEMA)


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile of sorted values."""
    position = q * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def summaries(data: RunData, by: Sequence[str]) -> list[Table]:
    """The ratings group's table (ratings span every episode: ``by`` does not split them)."""
    title = "Elo per model and role (bootstrap 95% interval)"
    return [Table("ratings", title, ratings(data), ("label", "role"))]
