"""How many episodes a comparison needs: the sample sizes behind ``traitors plan``.

- A cell's **win rate** (of the hidden side): the fewest episodes n whose Wilson interval at
  the observed (pilot) or worst-case (0.5) rate is at most ``width`` wide.
- A **pair of models** on one side (deception: seats on the hidden side; detection: the
  others): the difference of their win rates on that side, from the design's blocks. In a
  seed's block, model X plays side S in ``o_X`` episodes (at least one seat of X on S); with
  win rates p_X, the normal (Wald) interval of p_A - p_B over k seeds has width
  2 z sqrt(p_A q_A / (k o_A) + p_B q_B / (k o_B)), so k = 4 z^2 (p_A q_A / o_A +
  p_B q_B / o_B) / width^2 seeds. It treats the two models' games as independent: pairing
  on the same seeds makes their estimates positively correlated, so the true width is if
  anything narrower (the number is conservative).
"""

from __future__ import annotations

import math
from statistics import NormalDist

from traitors.util.stats import wilson

WORST_CASE = 0.5
"""The rate that needs the most episodes, used without pilot data."""
MOST = 10_000_000
"""The largest answer searched for."""


def z_for(alpha: float) -> float:
    """The two-sided normal quantile at level 1 - alpha."""
    return NormalDist().inv_cdf(1 - alpha / 2)


def wilson_width(p: float, n: int, z: float) -> float:
    """The width of the Wilson interval of rate ``p`` observed in ``n`` episodes."""
    low, high = wilson(p * n, n, z)
    return high - low


def episodes_for_rate(p: float, width: float, z: float) -> int:
    """The fewest episodes whose Wilson interval at rate ``p`` is at most ``width`` wide."""
    if not 0.0 < width < 1.0:
        raise ValueError("the width must be between 0 and 1")
    high = 1
    while wilson_width(p, high, z) > width:
        high *= 2
        if high > MOST:
            return MOST
    low = high // 2
    while low + 1 < high:  # the width falls as n grows: the least n that meets it
        middle = (low + high) // 2
        if wilson_width(p, middle, z) <= width:
            high = middle
        else:
            low = middle
    return high


def seeds_for_difference(
    rates: tuple[float, float], per_seed: tuple[float, float], width: float, z: float
) -> int:
    """Seeds for a ``width``-wide interval of p_A - p_B (see the module docstring);
    ``per_seed`` are o_A and o_B, episodes per seed in which each model plays the side."""
    if min(per_seed) <= 0:
        raise ValueError("a model never plays this side in the design")
    variance = sum(p * (1 - p) / o for p, o in zip(rates, per_seed, strict=True))
    return max(1, math.ceil(4 * z * z * variance / (width * width)))
