"""The interval formulas of the ``causal`` group, on plain numbers.

Wilson's score interval of one proportion, Newcombe's hybrid score interval (method 10 of
Newcombe 1998) of a difference of two independent proportions, and a seeded percentile
bootstrap of a difference of two independent means. numpy is imported only by the bootstrap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from traitors.util.stats import wilson as score_interval

Z95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95% interval."""
RESAMPLES = 2000
"""Bootstrap resamples of a mean difference."""
SEED = 0
"""The bootstrap's seed: every interval is the same on every run."""


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval (low, high) of ``successes`` in ``trials`` > 0 (the formula is
    :func:`traitors.util.stats.wilson`'s)."""
    if trials <= 0:
        raise ValueError("a Wilson interval needs at least one trial")
    return score_interval(successes, trials, z)


def newcombe(k1: int, n1: int, k2: int, n2: int, z: float = Z95) -> tuple[float, float, float]:
    """The difference p1 - p2 (p = k / n, independent samples) and Newcombe's hybrid score
    interval: d - sqrt((p1 - l1)² + (u2 - p2)²), d + sqrt((u1 - p1)² + (p2 - l2)²), with
    (l, u) the Wilson intervals of p1 and p2."""
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = wilson(k1, n1, z), wilson(k2, n2, z)
    difference = p1 - p2
    low = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return difference, max(low, -1.0), min(high, 1.0)


def bootstrap_difference(
    treated: Sequence[float],
    control: Sequence[float],
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """mean(treated) - mean(control) and its percentile bootstrap interval: each arm
    resampled with replacement (independently, within the arm) ``resamples`` times, the
    (1 - level)/2 and (1 + level)/2 quantiles of the resampled differences."""
    import numpy as np

    if not treated or not control:
        raise ValueError("a mean difference needs values in both arms")
    t = np.asarray(treated, dtype=np.float64)
    c = np.asarray(control, dtype=np.float64)
    rng = np.random.default_rng(seed)
    t_means = t[rng.integers(0, t.size, (resamples, t.size))].mean(axis=1)
    c_means = c[rng.integers(0, c.size, (resamples, c.size))].mean(axis=1)
    low, high = np.quantile(t_means - c_means, [(1 - level) / 2, (1 + level) / 2])
    difference = float(t.mean() - c.mean())
    # A one-valued resampling can put a bound a rounding error past the difference.
    return difference, min(float(low), difference), max(float(high), difference)
