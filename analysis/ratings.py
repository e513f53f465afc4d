"""Elo ratings per (model, role) across episodes, with a bootstrap interval.

Each episode is one game between two teams: the initial hidden side (the factions the
scenario's words mark hidden) and the initial uncovering side (every other faction). A
seat's entity is (label, role), its label being its model (or its policy when no model
played). A team's rating is the mean of its entities' ratings; every entity of a team moves
by K * (S - E) with the team's score S (1 win, 0.5 draw, 0 loss) and expected score E. The
hidden side wins when the manifest's winner is one of its factions. Scenarios without a
hidden side are not rated.

The group also tabulates the leaderboard of ``analysis.skill_leaderboard``: per model, a
deception, a detection and an overall rating (Bradley-Terry and OpenSkill).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from analysis.loader import RunData
from analysis.skill_leaderboard import leaderboard
from analysis.summary import Table

START = 1500.0
K = 32.0
BOOTSTRAP = 200
"""Bootstrap resamples (episodes drawn with replacement, in a random order)."""
ELO_BLOCK = 256
"""Games per step of :func:`elo_runs` whose rows are gathered at once (bounds the memory)."""

Entity = tuple[str, str]
"""(label, role)."""
RATING_SCHEMA: dict[str, pl.DataType] = {
    "label": pl.String(),
    "role": pl.String(),
    "faction": pl.String(),
    "games": pl.Int64(),
    "elo": pl.Float64(),
    "elo_mean": pl.Float64(),
    "elo_low": pl.Float64(),
    "elo_high": pl.Float64(),
}


@dataclass(frozen=True)
class Game:
    """One episode as a match between the hidden side's and the uncovering side's entities."""

    hidden: tuple[Entity, ...]
    """The entities of the hidden side's initial members."""
    uncovering: tuple[Entity, ...]
    """The entities of the others."""
    hidden_score: float
    """1 if the hidden side won, 0 if it lost, 0.5 for a draw."""


def elo(games: Sequence[Game], k: float = K, start: float = START) -> dict[Entity, float]:
    """Ratings after playing ``games`` in order."""
    entities, sides = team_sides(games)
    ratings = elo_runs(sides, scores(games), np.arange(len(games))[None, :], k, start)
    return {entity: float(rating) for entity, rating in zip(entities, ratings[0], strict=True)}


def team_sides(games: Sequence[Game]) -> tuple[list[Entity], npt.NDArray[np.float64]]:
    """The entities (sorted) and each game's sides, shape (games, entities): +1 for the
    hidden side's team, -1 for the uncovering side's, 0 for an entity that did not play."""
    entities = sorted({e for game in games for e in (*game.hidden, *game.uncovering)})
    column = {entity: i for i, entity in enumerate(entities)}
    rows, columns, signs = [], [], []
    for g, game in enumerate(games):
        for sign, team in ((1.0, game.hidden), (-1.0, game.uncovering)):
            for entity in team:
                rows.append(g)
                columns.append(column[entity])
                signs.append(sign)
    sides = np.zeros((len(games), len(entities)))
    sides[rows, columns] = signs
    return entities, sides


def scores(games: Sequence[Game]) -> npt.NDArray[np.float64]:
    """Each game's score of the hidden side."""
    return np.array([game.hidden_score for game in games])


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
    uncovering side's change is minus the hidden side's (their expected scores sum to 1), so
    one signed membership row per game moves both teams.
    """
    hidden, uncovering = sides > 0, sides < 0
    # The hidden side's expected score is 1 / (1 + exp(ratings . weights[game])): the weights
    # give the gap of team means (hidden - uncovering), times -ln(10) / 400.
    weights = hidden / hidden.sum(axis=1, keepdims=True)
    weights -= uncovering / uncovering.sum(axis=1, keepdims=True)
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
    """Every episode with both sides as a game, in the order they were played (start time,
    then id)."""
    players = (
        data.players.drop_nulls("hidden").select("episode_id", "label", "role", "hidden").unique()
    ).collect()
    teams: dict[str, dict[bool, list[Entity]]] = {}
    for episode_id, label, role, hidden in players.sort("label", "role").iter_rows():
        teams.setdefault(episode_id, {}).setdefault(hidden, []).append((label, role))
    episodes = data.episodes.select("episode_id", "winner", "hidden_factions", "started_at")
    played = []
    for episode_id, winner, secret, _ in (
        episodes.sort("started_at", "episode_id").collect().iter_rows()
    ):
        team = teams.get(episode_id, {})
        if team.get(True) and team.get(False):
            score = 0.5 if winner is None else float(winner in secret)
            played.append(Game(tuple(team[True]), tuple(team[False]), score))
    return played


def entity_factions(data: RunData) -> dict[Entity, str]:
    """(label, role) -> the faction of the role (the first the logs give it)."""
    players = data.players.drop_nulls("faction").select("label", "role", "faction").collect()
    factions: dict[Entity, str] = {}
    for label, role, faction in players.iter_rows():
        factions.setdefault((label, role), faction)
    return factions


def ratings(data: RunData, resamples: int = BOOTSTRAP, seed: int = 0) -> pl.DataFrame:
    """label, role, faction, games, elo (in play order), and the bootstrap mean and 95%
    interval."""
    played = games(data)
    if not played:
        return pl.DataFrame(schema=RATING_SCHEMA)
    n = len(played)
    orders = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    entities, sides = team_sides(played)
    # Run 0 plays every game in order (the point estimate); the others are the resamples.
    runs = elo_runs(sides, scores(played), np.vstack([np.arange(n), orders]))
    factions = entity_factions(data)
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
                "faction": factions.get((label, role)),
                "games": int(member[:, i].sum()),
                "elo": float(point[0, i]),
                "elo_mean": float(draws.mean()),
                "elo_low": float(np.quantile(draws, 0.025)),
                "elo_high": float(np.quantile(draws, 0.975)),
            }
        )
    return pl.DataFrame(rows, schema=RATING_SCHEMA)


def summaries(data: RunData, by: Sequence[str]) -> list[Table]:
    """The ratings group's tables: Elo (spanning every episode: ``by`` does not split it),
    and the leaderboard of deception, detection and overall ratings per model (per group of
    ``by``)."""
    title = "Elo per model and role (bootstrap 95% interval)"
    board = (
        "Leaderboard: deception, detection and overall ratings per model (Bradley-Terry "
        "logits and OpenSkill, bootstrap 95% intervals)"
    )
    return [
        Table("ratings", title, ratings(data), ("label", "role")),
        Table("leaderboard", board, leaderboard(data, by), (*dict.fromkeys(by), "label")),
    ]
