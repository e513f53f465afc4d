"""Bradley-Terry ratings of team games: an order-independent maximum-likelihood fit.

P(hidden side wins game g) = sigmoid(a + mean over its hidden seats of theta_e - mean over
its uncovering seats of theta_e), fitted by Newton's method (IRLS) on the binomial
log-likelihood with a draw counted as half a win, plus a ridge (RIDGE / 2) * (a^2 + sum
theta^2) that keeps the fit finite when a team always wins. The ratings are on the logit
scale and anchored after the fit: each kind's entities (deception, detection, overall) have
mean zero, and ``a`` (the side advantage: the hidden side's log-odds of winning between
average models) absorbs the shift, so the likelihood is unchanged.

A fit sums the likelihood over the distinct games (same seats' shares, same score), each
weighted by how often it was played (or drawn, in a bootstrap resample), and each bootstrap
refit starts from the fit over every game; tests/test_ratings.py checks both against plain
fits of the games drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from analysis.skill_games import DECEPTION, DETECTION, Entity, TeamGame, TeamsOf

RIDGE = 0.1
"""L2 penalty on every coefficient (a normal prior of sd ~3.2 logits)."""
TOLERANCE = 1e-9
MAX_STEPS = 100
SIDE_SIGN = {DECEPTION: 1.0, DETECTION: -1.0}
"""How a kind's anchoring shift moves the side advantage (hidden seats +, uncovering -)."""


@dataclass(frozen=True)
class Design:
    """The games as a regression: one row per game."""

    entities: list[Entity]
    """The columns, sorted."""
    shares: npt.NDArray[np.float64]
    """(games, entities): share of the hidden team's seats held by the entity minus its share
    of the uncovering team's seats."""
    played: npt.NDArray[np.bool_]
    """(games, entities): whether the entity held a seat."""
    scores: npt.NDArray[np.float64]
    """The hidden side's score of each game."""


@dataclass(frozen=True)
class BradleyTerry:
    """A fit: the anchored ratings and the side advantage."""

    ratings: dict[Entity, float]
    advantage: float


def design(games: Sequence[TeamGame], teams_of: TeamsOf) -> Design:
    """The regression of ``games`` with entities from ``teams_of``."""
    sides = [teams_of(game) for game in games]
    entities = sorted({e for teams in sides for team in teams for e in team})
    column = {entity: i for i, entity in enumerate(entities)}
    shares = np.zeros((len(games), len(entities)))
    for g, teams in enumerate(sides):
        for sign, team in zip((1.0, -1.0), teams, strict=True):
            for entity in team:
                shares[g, column[entity]] += sign / len(team)
    played = np.zeros_like(shares, dtype=bool)
    for g, teams in enumerate(sides):
        played[g, [column[e] for team in teams for e in team]] = True
    scores = np.array([game.hidden_score for game in games])
    return Design(entities, shares, played, scores)


@dataclass(frozen=True)
class DistinctGames:
    """The regression's distinct rows: identical games add identical terms to the
    likelihood, so a fit sums over the distinct rows, each weighted by its count."""

    x: npt.NDArray[np.float64]
    """(rows, 1 + entities): a column of ones (the side advantage), then the shares."""
    y: npt.NDArray[np.float64]
    """The hidden side's score of each row."""
    row_of_game: npt.NDArray[np.int64]
    """The row of each game."""

    def drawn(
        self, games: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """x, y and the count of each row drawn among ``games`` (indices, repeats allowed);
        rows not drawn are left out, as they would add nothing."""
        counts = np.bincount(self.row_of_game[games], minlength=len(self.y))
        drawn = counts > 0
        return self.x[drawn], self.y[drawn], counts[drawn].astype(np.float64)


def distinct_games(design: Design) -> DistinctGames:
    """The distinct rows of ``design``."""
    ones = np.ones((len(design.scores), 1))
    table = np.hstack([ones, design.shares, design.scores[:, None]])
    rows, row_of_game = np.unique(table, axis=0, return_inverse=True)
    return DistinctGames(rows[:, :-1], rows[:, -1], row_of_game.reshape(-1))


def fit(design: Design) -> BradleyTerry:
    """The ridge maximum-likelihood fit over every game."""
    games = distinct_games(design)
    coefficients = _newton(*games.drawn(np.arange(len(design.scores))))
    present = np.asarray(design.played.any(axis=0))[None]
    advantage, theta = _anchored(design.entities, coefficients[None], present)
    ratings = dict(zip(design.entities, theta[0].tolist(), strict=True))
    return BradleyTerry(ratings, float(advantage[0]))


def bootstrap(design: Design, resamples: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Ratings (columns: ``design.entities``) refitted on each resample (rows: game
    indices drawn, each game counted as often as it was drawn); NaN where the entity played
    no game of it. Each refit starts from the fit over every game, a few Newton steps away."""
    games = distinct_games(design)
    start = _newton(*games.drawn(np.arange(len(design.scores))))
    coefficients = np.empty((len(resamples), len(start)))
    present = np.empty((len(resamples), len(design.entities)), dtype=bool)
    for row, drawn in enumerate(resamples):
        coefficients[row] = _newton(*games.drawn(drawn), start=start)
        present[row] = design.played[drawn].any(axis=0)
    return _anchored(design.entities, coefficients, present)[1]


def _newton(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    counts: npt.NDArray[np.float64],
    start: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float64]:
    """Maximize sum counts * (y log p + (1 - y) log(1 - p)) - RIDGE / 2 |beta|^2, p =
    sigmoid(x beta), by Newton steps from ``start`` (zero by default) halved until the
    objective rises."""
    beta = np.zeros(x.shape[1]) if start is None else start
    penalty = RIDGE * np.eye(x.shape[1])
    objective = _objective(x, y, counts, beta)
    columns = np.ascontiguousarray(x.T)  # the products below run faster on it
    for _ in range(MAX_STEPS):
        p = _sigmoid(x @ beta)
        gradient = columns @ (counts * (y - p)) - RIDGE * beta
        hessian = (columns * (counts * p * (1 - p))) @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        size = 1.0
        while True:
            candidate = _objective(x, y, counts, beta + size * step)
            if candidate >= objective - 1e-12 or size < 1e-6:
                break
            size /= 2
        beta, objective = beta + size * step, candidate
        if np.max(np.abs(size * step)) < TOLERANCE:
            break
    return beta


def _objective(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    counts: npt.NDArray[np.float64],
    beta: npt.NDArray[np.float64],
) -> float:
    eta = x @ beta
    # log p = -log(1 + e^-eta) (computed stably) and log(1 - p) = log p - eta
    loglik = -np.logaddexp(0, -eta) - (1 - y) * eta
    return float(counts @ loglik - RIDGE / 2 * beta @ beta)


def _sigmoid(eta: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    result: npt.NDArray[np.float64] = 0.5 * (1 + np.tanh(eta / 2))
    return result


def _anchored(
    entities: Sequence[Entity],
    coefficients: npt.NDArray[np.float64],
    present: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The side advantage (fits) and ratings (fits, entities) of fits (rows of
    ``coefficients``) with each kind's mean over its present entities moved to zero; NaN for
    an entity not present in a fit."""
    advantage, theta = coefficients[:, 0].copy(), coefficients[:, 1:].copy()
    kinds = np.array([kind for _, kind in entities])
    for kind in sorted(set(kinds.tolist())):
        members = present & (kinds == kind)
        count = members.sum(axis=1)
        centre = np.where(members, theta, 0.0).sum(axis=1) / np.maximum(count, 1)
        advantage += SIDE_SIGN.get(kind, 0.0) * centre
        theta -= np.where(members, centre[:, None], 0.0)
    theta[~present] = np.nan
    return advantage, theta
