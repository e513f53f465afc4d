"""OpenSkill (Weng-Lin Plackett-Luce) ratings of team games, played in order, with a bootstrap.

Each game is rated by ``PlackettLuce().rate`` with the hidden side's team first and the
uncovering side's second, ranks from the score (1 win: [1, 2]; 0: [2, 1]; draw: [1, 1]); the
library's defaults (mu 25, sigma 25/3, beta 25/6, tau 25/300) apply. A team lists one rating
per seat, so a model holding two seats of a team counts twice in the team's strength (the
library sums its members' mu). After a game, an entity takes the updated rating of its seats
(copies in one team receive identical updates). An overall entity with seats on both teams (a
model playing itself) keeps its rating for that game: the game would compare the model with
itself; its seats still count in both teams' strength for the other entities' updates. The
fit is order-dependent, like Elo: games are played in start order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from openskill.models import PlackettLuce, PlackettLuceRating

from analysis.skill_games import Entity, TeamGame, TeamsOf

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
    model = PlackettLuce()
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


def openskill_bootstrap(
    games: Sequence[TeamGame],
    teams_of: TeamsOf,
    entities: Sequence[Entity],
    resamples: npt.NDArray[np.int64],
) -> npt.NDArray[np.float64]:
    """mu of each of ``entities`` (columns) refitted on each resample (rows: game indices,
    played in start order, i.e. sorted); NaN where the entity played no game of it."""
    column = {entity: i for i, entity in enumerate(entities)}
    mus = np.full((len(resamples), len(entities)), np.nan)
    for row, drawn in enumerate(resamples):
        fitted = openskill_ratings([games[i] for i in np.sort(drawn)], teams_of)
        for entity, rating in fitted.items():
            if entity in column:
                mus[row, column[entity]] = rating.mu
    return mus
