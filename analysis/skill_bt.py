"""Bradley-Terry ratings of team games: an order-independent maximum-likelihood fit.

P(hidden side wins game g) = sigmoid(a + mean over its hidden seats of theta_e - mean over
its uncovering seats of theta_e), fitted by Newton's method (IRLS) on the binomial
log-likelihood with a draw counted as half a win, plus a ridge (RIDGE / 2) * (a^2 + sum
theta^2) that keeps the fit finite when a team always wins. The ratings are on the logit
scale and anchored after the fit: each kind's entities (deception, detection, overall) have
mean zero, and ``a`` (the side advantage: the hidden side's log-odds of winning between
average models) absorbs the shift, so the likelihood is unchanged.
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


def fit(design: Design, weights: npt.NDArray[np.float64] | None = None) -> BradleyTerry:
    """The ridge maximum-likelihood fit, each game counted ``weights[g]`` times (once by
    default); entities of no counted game are left out of the result."""
    counts = np.ones(len(design.scores)) if weights is None else weights
    x = np.hstack([np.ones((len(design.scores), 1)), design.shares])
    coefficients = _newton(x, design.scores, counts)
    present = counts @ design.played > 0
    return _anchored(design.entities, coefficients, present)


def bootstrap(design: Design, resamples: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Ratings (columns: ``design.entities``) refitted on each resample (rows: game
    indices drawn); NaN where the entity played no game of it."""
    out = np.full((len(resamples), len(design.entities)), np.nan)
    for row, drawn in enumerate(resamples):
        counts = np.bincount(drawn, minlength=len(design.scores)).astype(np.float64)
        fitted = fit(design, counts).ratings
        out[row] = [fitted.get(entity, np.nan) for entity in design.entities]
    return out


def _newton(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], counts: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Maximize sum counts * (y log p + (1 - y) log(1 - p)) - RIDGE / 2 |beta|^2, p =
    sigmoid(x beta), by Newton steps halved until the objective rises."""
    beta = np.zeros(x.shape[1])
    penalty = RIDGE * np.eye(x.shape[1])
    objective = _objective(x, y, counts, beta)
    for _ in range(MAX_STEPS):
        p = _sigmoid(x @ beta)
        gradient = x.T @ (counts * (y - p)) - RIDGE * beta
        hessian = (x.T * (counts * p * (1 - p))) @ x + penalty
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
    # log p = -log(1 + e^-eta), log(1 - p) = -log(1 + e^eta), computed stably
    loglik = -(y * np.logaddexp(0, -eta) + (1 - y) * np.logaddexp(0, eta))
    return float(counts @ loglik - RIDGE / 2 * beta @ beta)


def _sigmoid(eta: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    result: npt.NDArray[np.float64] = 0.5 * (1 + np.tanh(eta / 2))
    return result


def _anchored(
    entities: Sequence[Entity],
    coefficients: npt.NDArray[np.float64],
    present: npt.NDArray[np.bool_],
) -> BradleyTerry:
    """The ratings of the present entities with each kind's mean moved to zero."""
    advantage, theta = float(coefficients[0]), coefficients[1:]
    ratings: dict[Entity, float] = {}
    for kind in sorted({kind for _, kind in entities}):
        members = [i for i, (_, k) in enumerate(entities) if k == kind and present[i]]
        if not members:
            continue
        centre = float(theta[members].mean())
        advantage += SIDE_SIGN.get(kind, 0.0) * centre
        ratings.update({entities[i]: float(theta[i]) - centre for i in members})
    return BradleyTerry(ratings, advantage)
