"""Sweep budgets: stop scheduling episodes before the money (or the tokens) run out.

A job may start only if what was spent, plus what the running episodes are expected to
spend, plus this job's expected spend stays within the budget. An episode's expected spend
is the mean of the finished episodes of its cell once there are some, and the dry-run
estimate of its cell before (``traitors.sweep.estimate``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from traitors.sweep.jobs import Job, JobResult


@dataclass(frozen=True)
class Spend:
    """Cost in dollars and tokens (prompt + completion) of an episode or a sum of them."""

    cost: float = 0.0
    tokens: float = 0.0

    def __add__(self, other: Spend) -> Spend:
        return Spend(self.cost + other.cost, self.tokens + other.tokens)


@dataclass
class Budget:
    """The limits, what is spent, and what the running episodes are expected to spend."""

    max_cost: float | None
    """Dollars the sweep may spend (None: no limit)."""
    max_tokens: float | None
    """Tokens the sweep may spend (None: no limit)."""
    estimate: Callable[[Job], Spend]
    """The expected spend of a job of a cell nothing has finished in yet."""
    spent: Spend = Spend()
    running: dict[str, Spend] = field(default_factory=dict)
    _cells: dict[int, list[Spend]] = field(default_factory=lambda: defaultdict(list))
    _cell_of: dict[str, int] = field(default_factory=dict)

    def expected(self, job: Job) -> Spend:
        """What ``job`` is expected to spend."""
        seen = self._cells.get(job.cell)
        if seen:
            return Spend(
                sum(s.cost for s in seen) / len(seen), sum(s.tokens for s in seen) / len(seen)
            )
        return self.estimate(job)

    def needed(self, jobs: Iterable[Job]) -> Spend:
        """What ``jobs`` are expected to spend together."""
        total = Spend()
        for job in jobs:
            total += self.expected(job)
        return total

    def admit(self, job: Job) -> bool:
        """Whether ``job`` may start within the budget."""
        committed = self.spent
        for spend in self.running.values():
            committed += spend
        total = committed + self.expected(job)
        over_cost = self.max_cost is not None and total.cost > self.max_cost
        over_tokens = self.max_tokens is not None and total.tokens > self.max_tokens
        return not (over_cost or over_tokens)

    def started(self, job: Job) -> None:
        """``job`` started: its expected spend is committed."""
        self.running[job.episode_id] = self.expected(job)
        self._cell_of[job.episode_id] = job.cell

    def finished(self, result: JobResult) -> None:
        """A job ended: its real spend replaces the expected one."""
        self.running.pop(result.episode_id, None)
        usage = result.usage
        spend = Spend(
            float(usage.get("cost", 0.0)),
            float(usage.get("prompt_tokens", 0)) + float(usage.get("completion_tokens", 0)),
        )
        self.spent += spend
        cell = self._cell_of.pop(result.episode_id, None)
        if cell is not None and result.status in ("complete", "failed") and usage:
            self._cells[cell].append(spend)
