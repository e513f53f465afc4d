"""When a run's model calls and decisions went too badly to trust its results: the warning
thresholds the validity report (``traitors analyze --metrics validity``) and the sweep
summary share, and the warning line they print."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

FAILED_CALL_WARNING = 0.05
"""Share of model calls that failed after every retry above which a warning is printed:
beyond it, the model's seats played a good part of the game on defaults."""
TIMEOUT_WARNING = 0.02
"""Share of model calls whose final error is a timeout: a slow endpoint or too small a
``timeout``; even a few mean the game waited on a dead seat."""
DEFAULTED_WARNING = 0.05
"""Share of decisions replaced by the request's default (unusable or illegal after the repair
turn): the game played those moves, not the model."""
REPAIRED_WARNING = 0.10
"""Share of decisions whose first reply was illegal and made legal by the repair turn: a
model that often needs a second try is playing a different game (it sees its errors)."""
DEGRADED_WARNING = 0.05
"""Share of played episodes that came out degraded (left out of the results): the complete
ones are then a selection, and may not stand for the design."""

TIMEOUT_ERROR = re.compile(r"^\w*Timeout\w*:")
"""A call record's ``error`` whose exception type names a timeout (``TimeoutError`` of the
gateway's own limit, litellm's ``Timeout``, ``APITimeoutError``...): the gateway writes
``<type>: <message>``."""


def is_timeout(error: str | None) -> bool:
    """Whether a call record's ``error`` is a timeout."""
    return error is not None and TIMEOUT_ERROR.match(error) is not None


@dataclass(frozen=True)
class Rate:
    """One rate to watch: its name, the counts it is made of and its threshold."""

    name: str
    """As the warning says it (``failed calls``)."""
    count: int
    """Events counted (failed calls)."""
    total: int
    """What they are a share of (calls)."""
    threshold: float
    """The share above which it is a warning."""

    @property
    def share(self) -> float:
        """``count / total`` (0 when there is nothing to count)."""
        return self.count / self.total if self.total else 0.0

    @property
    def passed(self) -> bool:
        """Whether the share is above the threshold."""
        return self.share > self.threshold


def rates(counts: Mapping[str, int]) -> list[Rate]:
    """The watched rates of ``counts`` (``calls``, ``failed_calls``, ``timeouts``,
    ``decisions``, ``defaulted``, ``repaired``; ``episodes`` and ``degraded`` when given)."""
    calls, decisions = counts.get("calls", 0), counts.get("decisions", 0)
    watched = [
        Rate("failed calls", counts.get("failed_calls", 0), calls, FAILED_CALL_WARNING),
        Rate("timeouts", counts.get("timeouts", 0), calls, TIMEOUT_WARNING),
        Rate("defaulted actions", counts.get("defaulted", 0), decisions, DEFAULTED_WARNING),
        Rate("repaired replies", counts.get("repaired", 0), decisions, REPAIRED_WARNING),
    ]
    if "degraded" in counts:
        played = counts.get("episodes", 0) + counts["degraded"]
        watched.append(Rate("degraded episodes", counts["degraded"], played, DEGRADED_WARNING))
    return watched


def warnings(counts: Mapping[str, int], label: str = "") -> list[str]:
    """One phrase per rate of ``counts`` above its threshold (``fake/x: failed calls 12 of
    40 (30%, limit 5%)``)."""
    prefix = f"{label}: " if label else ""
    return [
        f"{prefix}{r.name} {r.count} of {r.total} ({r.share:.0%}, limit {r.threshold:.0%})"
        for r in rates(counts)
        if r.passed
    ]


def warning_line(phrases: list[str]) -> str | None:
    """The warning line of a report, or None when there is nothing to warn of."""
    if not phrases:
        return None
    return "validity warning: " + "; ".join(phrases)
