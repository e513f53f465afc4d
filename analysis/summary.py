"""Per-episode metrics to group summaries, and the small formulas several groups use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

import polars as pl

from analysis.loader import RunData

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)
"""A polars frame, eager or lazy (helpers that work on both return the kind they are given)."""

Z95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95% interval."""


def summarize(
    per_episode: pl.DataFrame, data: RunData, by: Sequence[str], keys: Sequence[str] = ()
) -> pl.DataFrame:
    """Mean of every metric column over the episodes of each group, nulls skipped.

    ``keys`` are extra row keys of ``per_episode`` (e.g. ``role``) kept as groups. The
    ``episodes`` column counts the rows of each group. A factor may be a column of
    ``per_episode`` too (``episode_id``, a key): it is read from there.
    """
    metrics = [c for c in per_episode.columns if c != "episode_id" and c not in keys]
    extra = [f for f in by if f not in per_episode.columns]
    factors = data.episodes.select("episode_id", *dict.fromkeys(extra))
    joined = per_episode.lazy().join(factors, on="episode_id", how="left")
    aggregates = [
        pl.len().alias("episodes"),
        *(pl.col(m).cast(pl.Float64()).mean() for m in metrics if m not in by),
    ]
    return grouped(joined, [*by, *keys], aggregates).collect()


def grouped(frame: Frame, groups: Sequence[str], aggregates: Sequence[pl.Expr]) -> Frame:
    """``group_by(groups).agg(aggregates)`` sorted by the groups (each once); one row when
    there are none."""
    groups = list(dict.fromkeys(groups))
    if not groups:
        return frame.select(aggregates)
    return frame.group_by(groups).agg(aggregates).sort(groups, nulls_last=True)


def wilson_interval(successes: pl.Expr, trials: pl.Expr, z: float = Z95) -> tuple[pl.Expr, pl.Expr]:
    """Wilson score interval of ``successes`` in ``trials`` (lower, upper), clipped to [0, 1]
    (at 0 or n successes rounding would leave a bound a hair outside)."""
    p = successes / trials
    denominator = 1 + z**2 / trials
    centre = p + z**2 / (2 * trials)
    half = z * (p * (1 - p) / trials + z**2 / (4 * trials**2)).sqrt()
    low, high = (centre - half) / denominator, (centre + half) / denominator
    return low.clip(0.0, 1.0), high.clip(0.0, 1.0)


def newcombe_interval(
    k1: pl.Expr, n1: pl.Expr, k2: pl.Expr, n2: pl.Expr, z: float = Z95
) -> tuple[pl.Expr, pl.Expr]:
    """Newcombe's hybrid score interval of p1 - p2 (p = k / n, independent samples), built
    from the two Wilson intervals (lower, upper)."""
    p1, p2 = k1 / n1, k2 / n2
    (low1, high1), (low2, high2) = wilson_interval(k1, n1, z), wilson_interval(k2, n2, z)
    difference = p1 - p2
    below = ((p1 - low1) ** 2 + (high2 - p2) ** 2).sqrt()
    above = ((high1 - p1) ** 2 + (p2 - low2) ** 2).sqrt()
    return difference - below, difference + above


def entropy_bits(counts: pl.Expr) -> pl.Expr:
    """Shannon entropy in bits of the distribution given by ``counts`` (an aggregation)."""
    share = counts / counts.sum()
    return -(share * share.log(2)).sum()


def correlation(x: str, y: str) -> pl.Expr:
    """Pearson correlation of two columns as an aggregation; null when either is constant.

    Written with means, which polars aggregates over all groups at once (``pl.corr`` runs
    group by group).
    """
    a, b = pl.col(x), pl.col(y)
    spread = a.std(ddof=0) * b.std(ddof=0)
    return pl.when(spread > 0).then(((a * b).mean() - a.mean() * b.mean()) / spread)


def rank_within(value: str, groups: Sequence[str]) -> pl.Expr:
    """Average rank (1-based, ties averaged) of ``value`` among the rows sharing ``groups``,
    named ``value``.

    One rank over (group number, value) minus where the group starts: the same numbers as
    ``rank("average").over(groups)``, which polars computes group by group.
    """
    group = pl.struct(*groups).rank("dense").alias("group")
    ranks = pl.struct(group, value).rank("average") - group.rank("min") + 1
    return ranks.alias(value)


def nan_to_null(expr: pl.Expr) -> pl.Expr:
    """NaN (e.g. a correlation of a constant) becomes null: undefined, not a number."""
    return expr.fill_nan(None)


@dataclass(frozen=True)
class Table:
    """One result table of the suite, as printed, exported and put in the report."""

    name: str
    """Short identifier, used as file name (``outcome`` -> ``outcome.csv``)."""
    title: str
    """Heading shown above the table."""
    frame: pl.DataFrame
    """The rows."""
    keys: tuple[str, ...]
    """The columns that identify a row (factors, role, round...); the others are values."""


def row_labels(frame: pl.DataFrame, keys: Sequence[str]) -> list[str]:
    """One label per row from its key columns (``rules.n_players=6, role=R``), or
    ``all`` when there are no keys."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return ["all"] * frame.height
    return [
        ", ".join(f"{k}={v}" for k, v in zip(keys, row, strict=True))
        for row in frame.select(keys).iter_rows()
    ]
