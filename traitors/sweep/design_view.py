"""What a sweep's design puts where (``--dry-run``), and how its ``stop:`` rule ended."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.table import Table

from traitors.game.seeds import derive_rng

if TYPE_CHECKING:
    from traitors.sweep.jobs import Job
    from traitors.sweep.stopping import StopRule


def seat_models(job: Job) -> list[tuple[str, str]]:
    """(model, role) of each seat position of ``job``: the model, or the policy of a seat
    that calls none; roles dealt as the episode will deal them (by position, from the seed)."""
    rules = job.spec.build_rules()
    players = job.spec.seats(rules.seat_count())
    roles = rules.initial_state(players, derive_rng(job.seed, "rules")).roles
    agents = [job.spec.agent_for(seat, roles[seat]) for seat in players]
    return [
        (agent.model if agent.policy == "llm" and agent.model else str(agent.policy), roles[seat])
        for seat, agent in zip(players, agents, strict=True)
    ]


def design_tables(jobs: Sequence[Job]) -> list[Table]:
    """Episodes per model x role and per model x seat position, over the whole sweep."""
    by_role: Counter[tuple[str, str]] = Counter()
    by_seat: Counter[tuple[str, str]] = Counter()
    positions: list[str] = []
    for job in jobs:
        for position, (model, role) in enumerate(seat_models(job), start=1):
            by_role[model, role] += 1
            by_seat[model, f"seat {position}"] += 1
            if position > len(positions):
                positions.append(f"seat {position}")
    roles = sorted({role for _, role in by_role})
    return [
        _counts("design: seats played per model and role", roles, by_role),
        _counts("design: games per model and seat position", positions, by_seat),
    ]


def _counts(title: str, columns: Sequence[str], counts: Counter[tuple[str, str]]) -> Table:
    table = Table(title=title)
    table.add_column("model", no_wrap=True)
    for column in columns:
        table.add_column(column, justify="right")
    for model in sorted({model for model, _ in counts}):
        table.add_row(model, *(str(counts[model, column]) for column in columns))
    return table


def stop_table(rule: StopRule) -> Table:
    """Per cell: episodes played, wins, the interval at each look's level, and whether the
    cell stopped before ``max_episodes``."""
    spec = rule.spec
    level = 1 - spec.alpha / spec.looks()
    table = Table(title=f"stop: win rate interval per cell ({level:.2%} per look, Bonferroni)")
    for column in ("cell", "played", "wins", "rate", "interval", "width", "stopped", "not run"):
        table.add_column(column, justify="right")
    for cell, count in rule.cells.items():
        low, high = rule.interval(cell)
        rate = f"{count.wins / count.played:.3f}" if count.played else "-"
        stopped = f"at {count.stopped_at}" if count.stopped_at is not None else "no"
        table.add_row(
            str(cell),
            str(count.played),
            str(count.wins),
            rate,
            f"[{low:.3f}, {high:.3f}]",
            f"{high - low:.3f}",
            stopped,
            str(rule.skipped[cell]),
        )
    return table
