"""OpenSkill (Weng-Lin Plackett-Luce) ratings of team games, played in order, with a bootstrap.

Each game is rated by ``PlackettLuce().rate`` with the hidden side's team first and the
uncovering side's second, ranks from the score (1 win: [1, 2]; 0: [2, 1]; draw: [1, 1]); the
library's defaults (mu 25, sigma 25/3, beta 25/6, tau 25/300) apply. A team lists one rating
per seat, so a model holding two seats of a team counts twice in the team's strength (the
library sums its members' mu). After a game, an entity takes the updated rating of its seats
(its copies share one rating, which the library widens by tau and updates once per seat, in
turn). An overall entity with seats on both teams (a
model playing itself) keeps its rating for that game: the game would compare the model with
itself; its seats still count in both teams' strength for the other entities' updates. The
fit is order-dependent, like Elo: games are played in start order.

The bootstrap replays its resamples side by side in numpy (:func:`replay`), one game of each
per step, with the library's update for two teams written out (no margin, weights, balance
or sigma limit, as with the defaults); tests/test_ratings.py checks it against the library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from openskill.models import PlackettLuce, PlackettLuceRating

from analysis.skill_games import Entity, TeamGame, TeamsOf

MODEL = PlackettLuce()
"""The library's model: its defaults are the replay's constants."""
ORDINAL_Z = 3.0
"""The ordinal is mu - 3 sigma, the library's conservative skill estimate."""
RANKS = {1.0: [1.0, 2.0], 0.0: [2.0, 1.0], 0.5: [1.0, 1.0]}
"""Ranks of (hidden team, uncovering team) by the hidden side's score."""


@dataclass(frozen=True)
class SkillRating:
    """An entity's OpenSkill rating after the games."""

    mu: float
    sigma: float

    @property
    def ordinal(self) -> float:
        """mu - 3 sigma."""
        return self.mu - ORDINAL_Z * self.sigma


def openskill_ratings(games: Sequence[TeamGame], teams_of: TeamsOf) -> dict[Entity, SkillRating]:
    """The ratings of every entity of ``teams_of(game)`` after playing ``games`` in order."""
    model = MODEL
    current: dict[Entity, PlackettLuceRating] = {}
    for game in games:
        sides = teams_of(game)
        for entity in {e for side in sides for e in side} - current.keys():
            current[entity] = model.rating()  # a new rating object costs a uuid: only once
        teams = [[current[e] for e in side] for side in sides]
        rated = model.rate(teams, ranks=list(RANKS[game.hidden_score]))
        seats: dict[Entity, list[PlackettLuceRating]] = {}
        for side, new in zip(sides, rated, strict=True):
            for entity, rating in zip(side, new, strict=True):
                seats.setdefault(entity, []).append(rating)
        for entity, ratings in seats.items():
            if entity not in sides[0] or entity not in sides[1]:
                current[entity] = ratings[0]  # its copies in one team moved alike
    return {e: SkillRating(r.mu, r.sigma) for e, r in sorted(current.items())}


@dataclass(frozen=True)
class Seats:
    """The games as seat counts: one row per game."""

    entities: list[Entity]
    """The columns, sorted."""
    hidden: npt.NDArray[np.float64]
    """(games, entities): the entity's seats in the hidden side's team."""
    uncovering: npt.NDArray[np.float64]
    """(games, entities): its seats in the uncovering side's team."""
    scores: npt.NDArray[np.float64]
    """The hidden side's score of each game."""


def seats(games: Sequence[TeamGame], teams_of: TeamsOf) -> Seats:
    """The seat counts of ``games`` with entities from ``teams_of``."""
    sides = [teams_of(game) for game in games]
    entities = sorted({e for teams in sides for team in teams for e in team})
    column = {entity: i for i, entity in enumerate(entities)}
    counts = np.zeros((2, len(games), len(entities)))
    for g, teams in enumerate(sides):
        for side, team in enumerate(teams):
            for entity in team:
                counts[side, g, column[entity]] += 1
    scores = np.array([game.hidden_score for game in games])
    return Seats(entities, counts[0], counts[1], scores)


def replay(
    seated: Seats, orders: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """OpenSkill of many runs at once: run r plays game ``orders[r, t]`` at step t.

    Returns mu, shape (runs, entities), and whether the run seated the entity; an entity a
    run never seated keeps the prior.
    """
    runs, entities = len(orders), len(seated.entities)
    mu = np.full((runs, entities), MODEL.mu)
    variance = np.full((runs, entities), MODEL.sigma**2)
    met = np.zeros((runs, entities), dtype=bool)
    for game in orders.T:  # one game per run at a time
        hidden, uncovering = seated.hidden[game], seated.uncovering[game]
        mu, variance = _rated(mu, variance, hidden, uncovering, seated.scores[game])
        met |= (hidden > 0) | (uncovering > 0)
    return mu, met


def _rated(
    mu: npt.NDArray[np.float64],
    variance: npt.NDArray[np.float64],
    hidden: npt.NDArray[np.float64],
    uncovering: npt.NDArray[np.float64],
    scores: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """mu and sigma^2 (runs, entities) after one game per run (its seat counts and score),
    as :func:`openskill_ratings` rates it with ``MODEL.rate``.

    The seats of an entity share one rating there: tau widens its variance once per seat,
    and each of its seats in a team applies the team's update in turn. A team's mu and
    variance s2 sum over its seats; c^2 is both teams' s2 plus 2 beta^2; the hidden side's
    expected score is p = sigmoid((its mu - the other's) / c); per seat of variance v, mu +=
    v / s2 omega and v *= max(1 - v / s2 delta, kappa), with omega = (score - p) s2 / c (the
    other team: p - score) and delta = p (1 - p) s2^1.5 / c^3. An entity on both teams keeps
    its rating.
    """
    widened = variance + (hidden + uncovering) * MODEL.tau**2
    hidden_variance = np.einsum("re,re->r", hidden, widened)[:, None]
    uncovering_variance = np.einsum("re,re->r", uncovering, widened)[:, None]
    c = np.sqrt(hidden_variance + uncovering_variance + 2 * MODEL.beta**2)
    expected = 1 / (1 + np.exp(-np.einsum("re,re->r", hidden - uncovering, mu)[:, None] / c))
    surprise = scores[:, None] - expected
    on_hidden = (hidden > 0) & (uncovering == 0)
    on_uncovering = (uncovering > 0) & (hidden == 0)
    team_variance = np.where(on_hidden, hidden_variance, uncovering_variance)
    omega = np.where(on_hidden, surprise, -surprise) * team_variance / c
    delta = expected * (1 - expected) * team_variance**1.5 / c**3
    team_seats = np.where(on_hidden, hidden, np.where(on_uncovering, uncovering, 0))
    new_mu, new_variance = mu, widened
    for seat in range(int(team_seats.max())):
        share = new_variance / team_variance
        turn = team_seats > seat
        new_mu = np.where(turn, new_mu + share * omega, new_mu)
        new_variance = np.where(
            turn, new_variance * np.maximum(1 - share * delta, MODEL.kappa), new_variance
        )
    moved = team_seats > 0
    return np.where(moved, new_mu, mu), np.where(moved, new_variance, variance)


def openskill_bootstrap(
    games: Sequence[TeamGame],
    teams_of: TeamsOf,
    entities: Sequence[Entity],
    resamples: npt.NDArray[np.int64],
) -> npt.NDArray[np.float64]:
    """mu of each of ``entities`` (columns) refitted on each resample (rows: game indices,
    played in start order, i.e. sorted); NaN where the entity played no game of it."""
    mus = np.full((len(resamples), len(entities)), np.nan)
    if not len(resamples):
        return mus  # the replay would still step through every game
    seated = seats(games, teams_of)
    mu, met = replay(seated, np.sort(resamples, axis=1))
    column = {entity: i for i, entity in enumerate(seated.entities)}
    for i, entity in enumerate(entities):
        if entity in column:
            j = column[entity]
            mus[met[:, j], i] = mu[met[:, j], j]
    return mus
