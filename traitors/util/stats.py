"""Interval statistics shared by the stopping rule, planning and analysis."""

from __future__ import annotations

import math


def wilson(wins: float, n: int, z: float) -> tuple[float, float]:
    """The Wilson score interval of ``wins`` in ``n`` at normal quantile ``z``."""
    if n == 0:
        return 0.0, 1.0
    p = wins / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)
