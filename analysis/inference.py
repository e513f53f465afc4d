"""Collective inference: how well the uncovering side's private beliefs find the hidden side.

Belief probes ask each player for P(target is on the hidden side) (the scenario's
``suspect``, in its own words). Only observers on the uncovering side count (the hidden
side knows the answer). The truth of a belief is whether the target was on the hidden side at
the moment of the report (its role then, and that role's faction in the episode's words); the
report of a round is the observer's last one.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from analysis import sides
from analysis.loader import RunData
from analysis.summary import Table, grouped, summarize
from analysis.tables import round_beliefs

METRICS = (
    "brier",
    "log_loss",
    "accuracy",
    "auc",
    "crowd_gain",
    "rounds_to_consensus",
    "consensus_reached",
)
CLIP = (1e-4, 0.9999)
"""Probabilities are clipped to this range before a logarithm (as published benchmarks do)."""


def uncovering_beliefs(data: RunData) -> pl.LazyFrame:
    """The uncovering side's round reports: episode_id, round, observer, target, p, truth (1
    when the target was on the hidden side)."""
    frame = round_beliefs(data).lazy().filter(~pl.col("observer_hidden"))
    return frame.select(
        "episode_id",
        "round",
        "observer",
        "target",
        "p",
        truth=pl.col("target_hidden").cast(pl.Float64()),
    )


def per_episode(data: RunData) -> pl.DataFrame:
    """One row per episode with every metric of :data:`METRICS` (null where undefined)."""
    pairs = uncovering_beliefs(data)
    frame = data.episodes.select("episode_id")
    for part in (_scores(pairs), _crowd(pairs)):
        frame = frame.join(part, on="episode_id", how="left")
    reached = pl.col("rounds_to_consensus").is_not_null().cast(pl.Float64())
    has_beliefs = pl.col("brier").is_not_null()
    return (
        frame.with_columns(consensus_reached=pl.when(has_beliefs).then(reached))
        .select("episode_id", *METRICS)
        .collect()
    )


def calibration(data: RunData, by: Sequence[str], bins: int = 10) -> pl.DataFrame:
    """Reliability table: per group and probability bin, mean belief and the share of the
    targets that were on the hidden side (``hidden_share``)."""
    factors = data.episodes.select("episode_id", *dict.fromkeys(f for f in by if f != "episode_id"))
    pairs = uncovering_beliefs(data).join(factors, on="episode_id")
    binned = pairs.with_columns(bin=(pl.col("p") * bins).floor().clip(0, bins - 1).cast(pl.Int64()))
    return grouped(
        binned,
        [*by, "bin"],
        [
            pl.len().alias("reports"),
            pl.col("p").mean().alias("mean_belief"),
            pl.col("truth").mean().alias("hidden_share"),
        ],
    ).collect()


def _scores(pairs: pl.LazyFrame) -> pl.LazyFrame:
    """Brier, log loss, accuracy and AUC over all the episode's reports."""
    p, y = pl.col("p"), pl.col("truth")
    clipped = p.clip(*CLIP)
    ranked = pairs.with_columns(rank=p.rank("average").over("episode_id"))
    positives, negatives = y.sum(), (1 - y).sum()
    auc = (pl.col("rank").filter(y == 1).sum() - positives * (positives + 1) / 2) / (
        positives * negatives
    )
    return ranked.group_by("episode_id").agg(
        ((p - y) ** 2).mean().alias("brier"),
        (-(y * clipped.log() + (1 - y) * (1 - clipped).log())).mean().alias("log_loss"),
        ((p >= 0.5).cast(pl.Float64()) == y).mean().alias("accuracy"),
        pl.when((positives > 0) & (negatives > 0)).then(auc).alias("auc"),
    )


def _crowd(pairs: pl.LazyFrame) -> pl.LazyFrame:
    """From the averaged belief ``q`` of each round and target:

    - ``crowd_gain``: mean individual Brier minus the Brier of the averaged belief, both
      averaged over the round's targets, then over rounds (never negative: it is the
      observers' disagreement);
    - ``rounds_to_consensus``: the first round whose averaged belief ranks every living
      member of the hidden side above every other living player (null if it never happens).
    """
    q, truth = pl.col("q"), pl.col("truth")
    crowd = pairs.group_by("episode_id", "round", "target").agg(
        pl.col("p").mean().alias("q"),
        ((pl.col("p") - truth) ** 2).mean().alias("individual"),
        truth.first(),
    )
    per_round = crowd.group_by("episode_id", "round").agg(
        (pl.col("individual") - (q - truth) ** 2).mean().alias("gain"),
        q.filter(truth == 1).min().alias("lowest_hidden"),
        q.filter(truth == 0).max().alias("top_uncovering"),
    )
    consensus = pl.col("lowest_hidden") > pl.col("top_uncovering")
    return per_round.group_by("episode_id").agg(
        pl.col("gain").mean().alias("crowd_gain"),
        pl.col("round").filter(consensus).min().alias("rounds_to_consensus"),
    )


def summaries(data: RunData, by: Sequence[str]) -> list[Table]:
    """The inference group's tables."""
    observers = sides.phrase(sides.uncovering(data), "uncovering side")
    hidden = sides.phrase(sides.hidden(data), "hidden side")
    return [
        Table(
            "inference",
            f"Collective inference of the {observers} about the {hidden} (means over episodes)",
            summarize(per_episode(data), data, by),
            tuple(by),
        ),
        Table(
            "calibration",
            f"Belief calibration of the {observers}",
            calibration(data, by),
            (*by, "bin"),
        ),
    ]
