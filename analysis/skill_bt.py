"""Bradley-Terry ratings of team games: an order-independent maximum-likelihood fit.

P(hidden side wins game g) = sigmoid(a + mean over its hidden seats of theta_e - mean over
its uncovering seats of theta_e), fitted by Newton's method (IRLS) on the binomial
log-likelihood with a draw counted as half a win, plus a ridge (RIDGE / 2) * (a^2 + sum
theta^2) that keeps the fit finite when a team always wins. The ratings are on the logit
scale and anchored after the fit: each kind's entities (deception, detection, overall) have
mean zero, and ``a`` (the side advantage: the hidden side's log-odds of winning between
average models) absorbs the shift, so the likelihood is unchanged.

A fit sums the likelihood over the distinct games (same seats, same score), each weighted by
how often it was played (or drawn, in a bootstrap resample). The bootstrap's refits take
their Newton steps side by side, each starting from the fit over every game;
tests/test_ratings.py checks them against plain fits of the games drawn.
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
FIT_BLOCK = 2**20
"""Bootstrap refits solved at once: at most this many fits x rows x columns (and fits x
games) per block, which bounds the memory (8 MB per array)."""
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
    played: npt.NDArray[np.bool_]
    """(rows, entities): whether the entity held a seat."""
    row_of_game: npt.NDArray[np.int64]
    """The row of each game."""

    def counts(self, draws: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """(fits, rows): how often each fit (a row of ``draws``: game indices, repeats
        allowed) drew each row."""
        fits, rows = len(draws), len(self.y)
        cells = self.row_of_game[draws] + rows * np.arange(fits)[:, None]
        counts = np.bincount(cells.ravel(), minlength=fits * rows).reshape(fits, rows)
        return counts.astype(np.float64)


def distinct_games(design: Design) -> DistinctGames:
    """The distinct rows of ``design``."""
    ones = np.ones((len(design.scores), 1))
    table = np.hstack([ones, design.shares, design.played, design.scores[:, None]])
    rows, row_of_game = np.unique(table, axis=0, return_inverse=True)
    x, played = np.split(rows[:, :-1], [design.shares.shape[1] + 1], axis=1)
    return DistinctGames(x, rows[:, -1], played > 0, row_of_game.reshape(-1))


def fit(design: Design) -> BradleyTerry:
    """The ridge maximum-likelihood fit over every game."""
    games = distinct_games(design)
    counts = games.counts(np.arange(len(design.scores))[None])
    advantage, theta = _anchored(design.entities, _newton(games, counts), counts @ games.played > 0)
    ratings = dict(zip(design.entities, theta[0].tolist(), strict=True))
    return BradleyTerry(ratings, float(advantage[0]))


def bootstrap(design: Design, resamples: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Ratings (columns: ``design.entities``) refitted on each resample (rows: game
    indices drawn, each game counted as often as it was drawn); NaN where the entity played
    no game of it. The refits run side by side, ``FIT_BLOCK`` at most at once, each from the
    fit over every game, a few Newton steps away."""
    games = distinct_games(design)
    start = _newton(games, games.counts(np.arange(len(design.scores))[None]))[0]
    block = max(1, FIT_BLOCK // max(len(design.scores), games.x.size))
    coefficients = np.empty((len(resamples), len(start)))
    present = np.empty((len(resamples), len(design.entities)), dtype=bool)
    for first in range(0, len(resamples), block):
        counts = games.counts(resamples[first : first + block])
        coefficients[first : first + block] = _newton(games, counts, start)
        present[first : first + block] = counts @ games.played > 0
    return _anchored(design.entities, coefficients, present)[1]


def _newton(
    games: DistinctGames,
    counts: npt.NDArray[np.float64],
    start: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float64]:
    """Coefficients (fits, columns) maximizing, for each fit (a row of ``counts``: fits,
    rows), sum counts * (y log p + (1 - y) log(1 - p)) - RIDGE / 2 |beta|^2, p = sigmoid(x
    beta), by Newton steps from ``start`` (zero by default) halved until the objective rises;
    a fit stops after a step under ``TOLERANCE``."""
    x, y = games.x, games.y
    beta = np.tile(np.zeros(x.shape[1]) if start is None else start, (len(counts), 1))
    objective = _objective(games, counts, beta)
    penalty = RIDGE * np.eye(x.shape[1])
    active = np.arange(len(counts))
    for _ in range(MAX_STEPS):
        if not active.size:
            break
        b, c = beta[active], counts[active]
        p = _sigmoid(b @ x.T)
        gradient = (c * (y - p)) @ x - RIDGE * b
        hessian = (x.T * (c * p * (1 - p))[:, None, :]) @ x + penalty
        solved = np.linalg.solve(hessian, gradient[..., None])
        step = solved[..., 0].astype(np.float64, copy=False)
        size, objective[active] = _halved(games, c, b, step, objective[active])
        moved = size[:, None] * step
        beta[active] = b + moved
        active = active[np.max(np.abs(moved), axis=1) >= TOLERANCE]
    return beta


def _halved(
    games: DistinctGames,
    counts: npt.NDArray[np.float64],
    beta: npt.NDArray[np.float64],
    step: npt.NDArray[np.float64],
    objective: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per fit, the step's size (1, halved while the objective falls, down to under 1e-6)
    and the objective there."""
    size = np.ones(len(beta))
    candidate = _objective(games, counts, beta + step)
    falling = candidate < objective - 1e-12
    while falling.any():
        size[falling] /= 2
        moved = beta[falling] + size[falling, None] * step[falling]
        candidate[falling] = _objective(games, counts[falling], moved)
        falling &= (candidate < objective - 1e-12) & (size >= 1e-6)
    return size, candidate


def _objective(
    games: DistinctGames, counts: npt.NDArray[np.float64], beta: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """The penalized log-likelihood of each fit (rows of ``counts`` and ``beta``)."""
    eta = beta @ games.x.T
    # log p = -log(1 + e^-eta) (computed stably) and log(1 - p) = log p - eta
    loglik = -np.logaddexp(0, -eta) - (1 - games.y) * eta
    penalized: npt.NDArray[np.float64] = np.einsum("fr,fr->f", counts, loglik)
    penalized -= RIDGE / 2 * np.einsum("fc,fc->f", beta, beta)
    return penalized


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
