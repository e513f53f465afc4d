"""``traitors sweep`` and ``traitors compact``: expand, estimate, run within a budget, stop
cleanly on Ctrl-C or SIGTERM, and pack the finished episodes into Parquet shards.

Only argparse-level work happens at import; the runner is imported inside the commands.
"""

from __future__ import annotations

import argparse
import math
import signal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from traitors.commands.options import DEFAULT_BREAKER, UsageError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from traitors.sweep.budget import Budget, Spend
    from traitors.sweep.estimate import Estimate
    from traitors.sweep.jobs import Job
    from traitors.sweep.spec import InferenceSpec
    from traitors.sweep.stopping import StopRule

EXIT_BUDGET = 3
"""Exit code of a sweep stopped by its budget (the command it prints, with the budget the
episodes not started need, resumes)."""
MARGIN = 1.2
"""The budget printed to resume work stopped by its budget: the work's expected spend and a
fifth more, for chance."""
COMPACT_AT = 1_000
"""A sweep packs its finished episodes into shards at the end once this many are loose."""


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM is handled like Ctrl-C while the block runs: it raises SIGINT, whose handler
    (asyncio's, in an event loop; Python's KeyboardInterrupt otherwise) stops cleanly. A
    process started in the background by a shell inherits SIGINT ignored: Python's handler
    is put back for the block, or neither signal would stop it."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        signal.raise_signal(signal.SIGINT)

    previous = signal.signal(signal.SIGTERM, interrupt)
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_sweep_command(args: argparse.Namespace) -> int:
    """Run ``traitors sweep``: 0 done, 1 some episodes failed, 3 stopped by the budget,
    130 interrupted (Ctrl-C or SIGTERM; the resume command is printed)."""
    from rich.console import Console

    from traitors.commands.preflight import check_jobs
    from traitors.sweep.jobs import Job
    from traitors.sweep.spec import load_sweep
    from traitors.sweep.stopping import StopRule

    check_run_options(args)
    sweep, episodes = load_sweep(args.sweep)
    console = Console()
    jobs = [Job.of(e) for e in episodes]
    check_jobs(jobs)
    stop = StopRule(sweep.stop, jobs) if sweep.stop is not None else None
    if args.dry_run:
        console.print(
            expansion_table(f"sweep {sweep.name}: {len(jobs)} episodes", jobs, estimates(jobs))
        )
        if sweep.design is not None:
            from traitors.sweep.design_view import design_tables

            for table in design_tables(jobs):
                console.print(table)
        return 0
    out = args.out or Path("runs") / sweep.name
    console.print(f"sweep [bold]{sweep.name}[/]: {len(jobs)} episodes into {out}")
    work = Work(sweep.model_dump(mode="json"), jobs, sweep.inference, stop)
    command = ["traitors sweep", str(args.sweep)]
    return run_work(args, work, out, console, make_budget(args, jobs), command)


def check_run_options(args: argparse.Namespace) -> None:
    """UsageError for executor and budget options out of range."""
    for name, least in (("concurrency", 1), ("retries", 0), ("breaker", 0)):
        if getattr(args, name) < least:
            raise UsageError(f"--{name} is too small")
    for name in ("max_cost", "max_tokens"):
        if getattr(args, name) is not None and getattr(args, name) <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be positive")


@dataclass(frozen=True)
class Work:
    """Jobs to run as one resumable directory (a sweep, or the forks of a question)."""

    meta: dict[str, Any]
    """What the directory's ``sweep.json`` says it is."""
    jobs: list[Job]
    inference: Sequence[InferenceSpec] = ()
    """Inference servers the jobs' models need."""
    stop: StopRule | None = None
    """When to stop each cell early (a sweep's ``stop:``)."""


def run_work(
    args: argparse.Namespace,
    work: Work,
    out: Path,
    console: Console,
    budget: Budget | None,
    command: list[str],
) -> int:
    """Run ``work`` into ``out`` on the executor ``args`` choose: 0 done, 1 some episodes
    failed, 3 stopped by the budget, 130 interrupted (then the ``command`` that resumes is
    printed, with the options it needs)."""
    try:
        with sigterm_as_interrupt():
            return _run(args, work, out, console, budget, command)
    except KeyboardInterrupt:
        console.print(
            f"\n[yellow]interrupted[/]: finished episodes are kept in {out}; running ones were "
            f"marked interrupted. Resume with:\n  {resume_command(args, command, out)}",
            highlight=False,
            soft_wrap=True,
        )
        return 130


def resume_command(
    args: argparse.Namespace, command: list[str], out: Path, expected: Spend | None = None
) -> str:
    """The command that carries on where this one stopped (with a budget for the
    ``expected`` spend of the work left, when given: see ``budget_options``)."""
    parts = [*command, "--out", str(out)]
    if args.executor != "local":
        parts += ["--executor", args.executor]
    if args.address:
        parts += ["--address", args.address]
    parts += budget_options(args, expected)
    if args.breaker != DEFAULT_BREAKER:
        parts += ["--breaker", str(args.breaker)]
    return " ".join(parts)


def budget_options(args: argparse.Namespace, expected: Spend | None = None) -> list[str]:
    """The budget options given, as typed; with the ``expected`` spend of the work left,
    the limits given set to it and ``MARGIN`` more (dollars to the cent, rounded up)."""
    if expected is None:
        return budget_flags(args.max_cost, args.max_tokens)
    cents = max(math.ceil(round(expected.cost * MARGIN * 100, 6)), 1)
    return budget_flags(
        cents / 100 if args.max_cost is not None else None,
        max(expected.tokens * MARGIN, 1) if args.max_tokens is not None else None,
    )


def budget_flags(max_cost: float | None, max_tokens: float | None) -> list[str]:
    """``--max-cost`` and ``--max-tokens`` as one types them: dollars without trailing
    zeros, whole tokens (rounded up)."""
    parts = []
    if max_cost is not None:
        parts += ["--max-cost", f"{max_cost:.10f}".rstrip("0").rstrip(".")]
    if max_tokens is not None:
        parts += ["--max-tokens", str(math.ceil(max_tokens))]
    return parts


def _run(
    args: argparse.Namespace,
    work: Work,
    out: Path,
    console: Console,
    budget: Budget | None,
    command: list[str],
) -> int:
    from traitors.sweep.breaker import Breaker
    from traitors.sweep.design_view import stop_table
    from traitors.sweep.driver import run_sweep
    from traitors.sweep.progress import SweepProgress

    jobs = work.jobs
    stop = work.stop
    resume = resume_command(args, command, out)
    breaker = Breaker(args.breaker) if args.breaker > 0 else None
    executor = _executor(args, work.inference)
    try:
        with SweepProgress(len(jobs), console) as progress:
            results = run_sweep(
                jobs, out, executor, work.meta, progress, args.retries, budget, stop, breaker
            )
    finally:
        executor.close()
    console.print(progress.summary())
    if stop is not None:
        console.print(stop_table(stop))
    _compact(out, console)
    failed = sum(r.status == "failed" for r in results)
    held = {r.episode_id for r in results if r.status == "pending"} & (
        breaker.held if breaker is not None else set()
    )
    unstarted = (
        sum(r.status == "pending" for r in results)
        - len(held)
        - (sum(stop.skipped.values()) if stop is not None else 0)
    )
    if failed:
        console.print(
            f"[red]{failed} episode(s) failed[/] (raised, or degraded: failed model calls or "
            "defaulted actions); tracebacks in <episode>/error.txt, reasons in sweep.json. "
            "Re-run with --retries N to try them again."
        )
    if unstarted:
        assert budget is not None
        spent = budget.spent
        waiting = [
            job
            for job, result in zip(jobs, results, strict=True)
            if result.status == "pending"
            and result.episode_id not in held
            and (stop is None or stop.cells[job.cell].stopped_at is None)
        ]
        need = budget.needed(waiting)
        console.print(
            f"[yellow]budget reached[/]: {unstarted} episode(s) not started (spent "
            f"${spent.cost:.4f} and {spent.tokens:,.0f} tokens). A budget limits one "
            f"command's spend; those episodes are expected to need ${need.cost:.4f} and "
            f"{need.tokens:,.0f} tokens. This resumes them, with a fifth more for chance:\n  "
            f"{resume_command(args, command, out, need)}",
            highlight=False,
            soft_wrap=True,
        )
        return EXIT_BUDGET
    if breaker is not None and breaker.tripped:
        for line in breaker.lines(resume):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        return 1
    return 1 if failed else 0


def _compact(out: Path, console: Console) -> None:
    """Pack the sweep's finished episodes into shards once there are many loose."""
    from traitors.store.shards import compact

    report = compact(out, min_episodes=COMPACT_AT)
    if report.packed:
        console.print(
            f"packed {report.packed} episode(s) into {len(report.shards)} shard(s) "
            f"in {out / 'shards'}",
            highlight=False,
        )


def _executor(args: argparse.Namespace, inference: Sequence[InferenceSpec]) -> Any:
    if args.executor == "ray":
        from traitors.sweep.ray_executor import RayExecutor

        return RayExecutor(address=args.address, actors=args.actors, inference=inference)
    from traitors.sweep.local import LocalExecutor

    return LocalExecutor(args.concurrency, inference=inference)


def estimates(jobs: Sequence[Job]) -> dict[int, Estimate]:
    """The dry-run estimate of every cell whose seats call models."""
    from traitors.sweep.estimate import estimate
    from traitors.sweep.ray_executor import calls_models

    cells: dict[int, Estimate] = {}
    for job in jobs:
        if job.cell not in cells and calls_models(job):
            cells[job.cell] = estimate(job.spec)
    return cells


def make_budget(args: argparse.Namespace, jobs: Sequence[Job]) -> Budget | None:
    """The sweep's budget, if one was asked for; UsageError when a price is unknown."""
    if args.max_cost is None and args.max_tokens is None:
        return None
    return budget_for(args, estimates(jobs))


def budget_for(args: argparse.Namespace, cells: dict[int, Estimate]) -> Budget | None:
    """The budget ``--max-cost``/``--max-tokens`` ask for, a job of a cell expected to
    spend its cell's estimate (None without a limit); UsageError when a price is unknown."""
    if args.max_cost is None and args.max_tokens is None:
        return None
    from traitors.sweep.budget import Budget, Spend

    if args.max_cost is not None:
        unknown = sorted({model for e in cells.values() for model in e.unknown})
        if unknown:
            raise UsageError(
                f"--max-cost: litellm has no price for {', '.join(unknown)}; budget with "
                "--max-tokens instead"
            )

    def expected(job: Job) -> Spend:
        cell = cells.get(job.cell)
        return Spend(cell.cost or 0.0, cell.tokens) if cell is not None else Spend()

    return Budget(args.max_cost, args.max_tokens, expected)


def expansion_table(
    title: str, jobs: Sequence[Job], cells: dict[int, Estimate], seeds: bool = True
) -> Table:
    """Cells, factors, episodes and (with ``seeds``) seeds; with LLM seats, the expected
    calls, tokens and cost per episode and per cell (an upper bound for a sweep: replies
    counted at max_tokens)."""
    from rich.table import Table

    grouped: dict[int, list[Job]] = {}
    for job in jobs:
        grouped.setdefault(job.cell, []).append(job)
    table = Table(title=title, show_footer=bool(cells))
    total_cost: float | None = 0.0
    total_calls = total_tokens = 0.0
    names = ["cell", "factors", "episodes", *(["seeds"] if seeds else [])]
    for column in names:
        table.add_column(column, overflow="fold")
    if cells:
        for column in ("calls/ep", "tokens/ep", "cost/ep", "cost"):
            table.add_column(column, justify="right")
    for cell, members in grouped.items():
        factors = ", ".join(f"{k}={v}" for k, v in members[0].factors.items()) or "(base)"
        row = [str(cell), factors, str(len(members))]
        if seeds:
            row.append(f"{members[0].seed}..{members[-1].seed}")
        if cells:
            found = cells.get(cell)
            calls = found.calls if found else 0.0
            tokens = found.tokens if found else 0.0
            cost = found.cost if found else 0.0
            cell_cost = _times(cost, len(members))
            row += [f"{calls:.0f}", f"{tokens:,.0f}", _money(cost), _money(cell_cost)]
            total_calls += calls * len(members)
            total_tokens += tokens * len(members)
            total_cost = _plus(total_cost, cell_cost)
        table.add_row(*row)
    if cells:
        first = len(names)
        table.columns[0].footer = "total"
        table.columns[first].footer = f"{total_calls:,.0f} calls"
        table.columns[first + 1].footer = f"{total_tokens:,.0f}"
        table.columns[first + 3].footer = _money(total_cost)
    return table


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.4f}"


def _times(value: float | None, count: int) -> float | None:
    return None if value is None else value * count


def _plus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


def run_compact_command(args: argparse.Namespace) -> int:
    """Run ``traitors compact``: pack a run or sweep directory's finished episodes."""
    from traitors.store.shards import compact

    if not args.path.is_dir():
        raise FileNotFoundError(f"{args.path}: no such directory")
    report = compact(args.path)
    print(
        f"packed {report.packed} episode(s) into {len(report.shards)} new shard(s) in "
        f"{args.path / 'shards'}"
    )
    return 0
