"""Stopping a sweep's cells once their win-rate interval is narrow enough.

A sweep's ``stop:`` looks at each cell every ``check_every`` finished episodes and stops
scheduling the cell's new seeds once the Wilson interval of its win rate (of ``faction``, or
of the hidden side) is at most ``ci_width`` wide, or at ``max_episodes``.

Looking again and again at a growing sample and stopping when it looks good widens the error
of a fixed-sample interval. The looks here spend the error by Bonferroni: with K =
ceil(max_episodes / check_every) planned looks, each look's interval is at level
1 - alpha / K, so all K intervals hold together with probability at least 1 - alpha, and the
one the cell stops at does too. It is conservative (the intervals are wider than a
fixed-sample 1 - alpha interval, so cells run longer than a naive rule would), and the rule
stops on the interval's width, never on its estimate. A seed's block (a design's episodes on
one seed) already started is always finished, so designs stay balanced.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from traitors.util.specfile import SpecError
from traitors.util.stats import wilson

if TYPE_CHECKING:
    from traitors.sweep.jobs import Job, JobResult


class StopSpec(BaseModel):
    """A sweep's ``stop:`` section."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: Literal["win_rate"] = "win_rate"
    """The share of a cell's played episodes that ``faction`` won."""
    faction: str | None = None
    """The faction whose wins count; None: any faction the scenario's words mark hidden."""
    ci_width: float = Field(gt=0.0, lt=1.0)
    """Stop a cell once its interval is at most this wide."""
    max_episodes: int = Field(ge=1)
    """Episodes per cell at most (the sweep expands to this many)."""
    check_every: int = Field(10, ge=1)
    """Finished episodes of a cell between two looks."""
    alpha: float = Field(0.05, gt=0.0, lt=1.0)
    """Error of all looks together (Bonferroni over the planned looks)."""

    def looks(self) -> int:
        """Planned looks per cell."""
        return math.ceil(self.max_episodes / self.check_every)

    def z(self) -> float:
        """The normal quantile of each look's two-sided level 1 - alpha / looks."""
        return NormalDist().inv_cdf(1 - self.alpha / (2 * self.looks()))


@dataclass
class CellCount:
    """What one cell has played so far."""

    wins: int = 0
    played: int = 0
    stopped_at: int | None = None
    """Episodes played when the cell was stopped (None: not stopped)."""


class StopRule:
    """Counts each cell's wins as results arrive and says which jobs are no longer wanted."""

    def __init__(self, spec: StopSpec, jobs: Iterable[Job]) -> None:
        self.spec = spec
        self.z = spec.z()
        jobs = list(jobs)
        self.block_of = {job.episode_id: (job.cell, job.seed) for job in jobs}
        self.winners: dict[int, frozenset[str]] = {}
        for job in jobs:
            if job.cell not in self.winners:
                self.winners[job.cell] = _winners(spec, job)
        self.cells = {cell: CellCount() for cell in self.winners}
        self.started_blocks: set[tuple[int, int]] = set()
        self.skipped: Counter[int] = Counter()
        """Jobs per cell left unstarted because the cell was stopped."""

    def started(self, job: Job) -> None:
        """A job started: its seed's block is played to the end."""
        self.started_blocks.add((job.cell, job.seed))

    def wanted(self, job: Job) -> bool:
        """Whether ``job`` should still start (False, counted, once its cell is stopped)."""
        if self.cells[job.cell].stopped_at is None or (job.cell, job.seed) in self.started_blocks:
            return True
        self.skipped[job.cell] += 1
        return False

    def finished(self, result: JobResult) -> None:
        """Count a complete episode's outcome; look at its cell every ``check_every``."""
        if result.outcome is None or result.status not in ("complete", "skipped"):
            return
        block = self.block_of[result.episode_id]
        self.started_blocks.add(block)
        count = self.cells[block[0]]
        count.played += 1
        count.wins += result.outcome in self.winners[block[0]]
        if count.stopped_at is None and count.played % self.spec.check_every == 0:
            low, high = wilson(count.wins, count.played, self.z)
            if high - low <= self.spec.ci_width:
                count.stopped_at = count.played

    def interval(self, cell: int) -> tuple[float, float]:
        """The cell's current interval (at each look's level)."""
        count = self.cells[cell]
        return wilson(count.wins, count.played, self.z)


def _winners(spec: StopSpec, job: Job) -> frozenset[str]:
    """The winner names that count as a win in ``job``'s scenario (SpecError for a faction
    the scenario does not have)."""
    factions = job.spec.build_rules().words.factions
    if spec.faction is None:
        return frozenset(f.name for f in factions if f.hidden)
    if spec.faction not in {f.name for f in factions}:
        known = ", ".join(f.name for f in factions)
        scenario = job.spec.scenario
        raise SpecError(f"stop.faction: {spec.faction!r} is not a faction of {scenario} ({known})")
    return frozenset({spec.faction})
