"""Elo ratings per (model, role) across episodes, with a bootstrap interval.

Each episode is one game between two teams: the initial traitors and the initial faithful.
A seat's entity is (label, role), its label being its model (or its policy when no model
played). A team's rating is the mean of its entities' ratings; every entity of a team moves
by K * (S - E) with the team's score S (1 win, 0.5 draw, 0 loss) and expected score E.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
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


def elo(games: Sequence[Game], k: float = K, start: float = START) -> dict[Entity, float]:
    """Ratings after playing ``games`` in order."""
    entities, ratings = elo_runs(games, np.arange(len(games))[None, :], k, start)
    return {entity: float(rating) for entity, rating in zip(entities, ratings[0], strict=True)}


def elo_runs(
    games: Sequence[Game], orders: npt.NDArray[np.int64], k: float = K, start: float = START
) -> tuple[list[Entity], npt.NDArray[np.float64]]:
    """Elo of many runs at once: run b plays ``games[orders[b, t]]`` for t = 0, 1, ...

    Returns the entities (sorted) and their ratings, shape (runs, entities). An entity the run
    never met keeps ``start``.
    """
    entities = sorted({e for game in games for e in (*game.traitors, *game.faithful)})
    column = {entity: i for i, entity in enumerate(entities)}
    teams = np.zeros((2, len(games), len(entities)))  # [traitors|faithful, game, entity]
    for g, game in enumerate(games):
        for side, team in enumerate((game.traitors, game.faithful)):
            teams[side, g, [column[e] for e in team]] = 1.0
    shares = teams / teams.sum(axis=2, keepdims=True)  # a team's rating is its mean
    scores = np.array([game.traitor_score for game in games])
    ratings = np.full((orders.shape[0], len(entities)), start)
    for played in orders.T:  # one game per run at a time
        traitors = (ratings * shares[0, played]).sum(axis=1)
        faithful = (ratings * shares[1, played]).sum(axis=1)
        traitor_change = k * (scores[played] - _expected(traitors, faithful))
        faithful_change = k * ((1 - scores[played]) - _expected(faithful, traitors))
        ratings += traitor_change[:, None] * teams[0, played]
        ratings += faithful_change[:, None] * teams[1, played]
    return entities, ratings


def _expected(
    rating: npt.NDArray[np.float64], opponent: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Elo expected score of ``rating`` against ``opponent``."""
    return 1 / (1 + 10 ** ((opponent - rating) / 400))


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
    if not played:
        return pl.DataFrame(schema=RATING_SCHEMA)
    n = len(played)
    entities, point = elo_runs(played, np.arange(n)[None, :])
    orders = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    _, samples = elo_runs(played, orders)
    member: npt.NDArray[np.bool_] = np.array(
        [[e in {*g.traitors, *g.faithful} for e in entities] for g in played], dtype=bool
    )
    met = np.any(member[orders], axis=1)  # (resample, entity): the entity played in that resample
    rows = []
    for i, (label, role) in enumerate(entities):
        draws = samples[met[:, i], i] if met[:, i].any() else point[0, i : i + 1]
        rows.append(
            {
                "label": label,
                "role": role,
                "games": int(member[:, i].sum()),
                "elo": float(point[0, i]),
                "elo_mean": float(draws.mean()),
                "elo_low": float(np.quantile(draws, 0.025)),
                "elo_high": float(np.quantile(draws, 0.975)),
            }
        )
    return pl.DataFrame(rows, schema=RATING_SCHEMA)


def summaries(data: RunData, by: Sequence[str]) -> list[Table]:
    """The ratings group's table (ratings span every episode: ``by`` does not split them)."""
    title = "Elo per model and role (bootstrap 95% interval)"
    return [Table("ratings", title, ratings(data), ("label", "role"))]
