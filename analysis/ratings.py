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
ELO_BLOCK = 256
"""Games per step of :func:`elo_runs` whose rows are gathered at once (bounds the memory)."""
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
    entities, sides = team_sides(games)
    ratings = elo_runs(sides, scores(games), np.arange(len(games))[None, :], k, start)
    return {entity: float(rating) for entity, rating in zip(entities, ratings[0], strict=True)}


def team_sides(games: Sequence[Game]) -> tuple[list[Entity], npt.NDArray[np.float64]]:
    """The entities (sorted) and each game's sides, shape (games, entities): +1 for the
    traitors' team, -1 for the faithful's, 0 for an entity that did not play."""
    entities = sorted({e for game in games for e in (*game.traitors, *game.faithful)})
    column = {entity: i for i, entity in enumerate(entities)}
    rows, columns, signs = [], [], []
    for g, game in enumerate(games):
        for sign, team in ((1.0, game.traitors), (-1.0, game.faithful)):
            for entity in team:
                rows.append(g)
                columns.append(column[entity])
                signs.append(sign)
    sides = np.zeros((len(games), len(entities)))
    sides[rows, columns] = signs
    return entities, sides


def scores(games: Sequence[Game]) -> npt.NDArray[np.float64]:
    """Each game's traitor score."""
    return np.array([game.traitor_score for game in games])


def elo_runs(
    sides: npt.NDArray[np.float64],
    scores: npt.NDArray[np.float64],
    orders: npt.NDArray[np.int64],
    k: float = K,
    start: float = START,
) -> npt.NDArray[np.float64]:
    """Elo of many runs at once: run b plays game ``orders[b, t]`` for t = 0, 1, ...

    ``sides`` and ``scores`` are those of :func:`team_sides` and :func:`scores`. Returns the
    ratings, shape (runs, entities); an entity the run never met keeps ``start``. The
    faithful's change is minus the traitors' (their expected scores sum to 1), so one signed
    membership row per game moves both teams.
    """
    traitors, faithful = sides > 0, sides < 0
    # The traitors' expected score is 1 / (1 + exp(ratings . weights[game])): the weights
    # give the gap of team means (traitors - faithful), times -ln(10) / 400.
    weights = traitors / traitors.sum(axis=1, keepdims=True)
    weights -= faithful / faithful.sum(axis=1, keepdims=True)
    weights *= -np.log(10) / 400
    ratings = np.full((orders.shape[0], sides.shape[1]), start)
    for first in range(0, orders.shape[1], ELO_BLOCK):
        block = orders[:, first : first + ELO_BLOCK]
        block_weights, block_sides = weights[block], sides[block]
        block_scores = k * scores[block]
        for t in range(block.shape[1]):  # one game per run at a time
            change = np.einsum("re,re->r", ratings, block_weights[:, t])
            np.exp(change, out=change)
            change += 1
            np.divide(k, change, out=change)  # k * expected score
            np.subtract(block_scores[:, t], change, out=change)
            ratings += change[:, None] * block_sides[:, t]
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
    if not played:
        return pl.DataFrame(schema=RATING_SCHEMA)
    n = len(played)
    orders = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    entities, sides = team_sides(played)
    # Run 0 plays every game in order (the point estimate); the others are the resamples.
    runs = elo_runs(sides, scores(played), np.vstack([np.arange(n), orders]))
    point, samples = runs[:1], runs[1:]
    member = sides != 0  # (game, entity)
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
