"""The leaderboard: per model, deception, detection and overall ratings with intervals.

Each rating is fitted two ways on the games of ``analysis.skill_games`` (pooled, or per group
of the ``by`` factors): Bradley-Terry (``analysis.skill_bt``, order-independent, logit scale)
and OpenSkill (``analysis.skill_openskill``, in play order). The 95% intervals are the 2.5% and
97.5% quantiles over bootstrap resamples of the episodes (drawn with replacement, seeded),
counting only the resamples in which the model played that side.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import polars as pl

from analysis import skill_bt
from analysis.loader import RunData
from analysis.skill_games import (
    DECEPTION,
    DETECTION,
    OVERALL,
    Entity,
    TeamGame,
    TeamsOf,
    games_on_side,
    labels,
    overall_teams,
    side_teams,
    team_games,
)
from analysis.skill_openskill import SkillRating, openskill_bootstrap, openskill_ratings

BOOTSTRAP = 200
"""Bootstrap resamples of the Bradley-Terry fit (and of OpenSkill, up to its budget)."""
OPENSKILL_BUDGET = 25_000
"""Games the OpenSkill bootstrap replays in all at most (resamples times episodes): 200
resamples up to 125 episodes, fewer beyond."""
OPENSKILL_MIN_RESAMPLES = 20
"""Below this many resamples (above 1,250 episodes) the OpenSkill mu gets no bootstrap
interval: its cost would grow with the run. Its sigma is still given, and the Bradley-Terry
intervals are computed at every size."""
KINDS = (DECEPTION, DETECTION, OVERALL)
VALUE_COLUMNS: dict[str, pl.DataType] = {
    "deceiver_games": pl.Int64(),
    "detective_games": pl.Int64(),
    **{
        f"{kind}_{column}": pl.Float64() for kind in KINDS for column in ("bt", "bt_low", "bt_high")
    },
    **{
        f"{kind}_{column}": pl.Float64()
        for kind in KINDS
        for column in ("mu", "mu_low", "mu_high", "sigma", "ordinal")
    },
}


def leaderboard(
    data: RunData, by: Sequence[str] = (), resamples: int = BOOTSTRAP, seed: int = 0
) -> pl.DataFrame:
    """One row per (group of ``by``, label): games per side, the Bradley-Terry ratings with
    95% intervals, OpenSkill mu (with 95% interval), sigma and ordinal, per kind."""
    factors = list(dict.fromkeys(by))
    schema = data.episodes.select(factors).collect_schema()
    rows = []
    for key, games in team_games(data, factors).items():
        for row in group_rows(games, resamples, seed):
            rows.append({**dict(zip(factors, key, strict=True)), **row})
    return pl.DataFrame(rows, schema={**schema, "label": pl.String(), **VALUE_COLUMNS})


def group_rows(
    games: Sequence[TeamGame], resamples: int = BOOTSTRAP, seed: int = 0
) -> list[dict[str, object]]:
    """The leaderboard rows (without factors) of one group's games, one per label."""
    n = len(games)
    drawn = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    affordable = min(resamples, OPENSKILL_BUDGET // n)
    openskill_drawn = drawn[: affordable if affordable >= OPENSKILL_MIN_RESAMPLES else 0]
    columns: dict[Entity, dict[str, float | None]] = {}
    for teams_of in (side_teams, overall_teams):
        columns_of = _bt_columns(games, teams_of, drawn)
        for entity, values in _openskill_columns(games, teams_of, openskill_drawn).items():
            columns_of[entity].update(values)
        columns.update(columns_of)
    rows: list[dict[str, object]] = []
    for label in labels(games):
        row: dict[str, object] = {
            "label": label,
            "deceiver_games": games_on_side(games, label, hidden=True),
            "detective_games": games_on_side(games, label, hidden=False),
        }
        for kind in KINDS:
            values = columns.get((label, kind), {})
            row.update({f"{kind}_{name}": value for name, value in values.items()})
        rows.append(row)
    return rows


def _bt_columns(
    games: Sequence[TeamGame], teams_of: TeamsOf, drawn: npt.NDArray[np.int64]
) -> dict[Entity, dict[str, float | None]]:
    regression = skill_bt.design(games, teams_of)
    point = skill_bt.fit(regression).ratings
    samples = skill_bt.bootstrap(regression, drawn)
    columns = {}
    for index, entity in enumerate(regression.entities):
        low, high = _interval(samples[:, index])
        columns[entity] = {"bt": point[entity], "bt_low": low, "bt_high": high}
    return columns


def _openskill_columns(
    games: Sequence[TeamGame], teams_of: TeamsOf, drawn: npt.NDArray[np.int64]
) -> dict[Entity, dict[str, float | None]]:
    point: dict[Entity, SkillRating] = openskill_ratings(games, teams_of)
    entities = list(point)
    samples = openskill_bootstrap(games, teams_of, entities, drawn)
    columns = {}
    for index, entity in enumerate(entities):
        low, high = _interval(samples[:, index])
        rating = point[entity]
        columns[entity] = {
            "mu": rating.mu,
            "mu_low": low,
            "mu_high": high,
            "sigma": rating.sigma,
            "ordinal": rating.ordinal,
        }
    return columns


def _interval(samples: npt.NDArray[np.float64]) -> tuple[float | None, float | None]:
    """2.5% and 97.5% quantiles of the non-NaN samples (None when there are none)."""
    kept = samples[~np.isnan(samples)]
    if not kept.size:
        return None, None
    return float(np.quantile(kept, 0.025)), float(np.quantile(kept, 0.975))
