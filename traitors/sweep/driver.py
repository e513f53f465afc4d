"""Drive a sweep through an executor: skip what is complete, retry what failed, keep state.

Executors take jobs from a ``JobQueue`` until it runs dry: the queue marks each job started
and asks the budget, if any, whether the next one may start, so a sweep stops scheduling
new episodes before its spending would pass the budget.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from traitors.store.log import read_manifest
from traitors.store.shards import (
    FINISHED_STATUSES,
    packed_statuses,
    packed_winners,
    shard_files,
)
from traitors.sweep.breaker import Breaker
from traitors.sweep.budget import Budget
from traitors.sweep.jobs import Job, JobResult
from traitors.sweep.progress import SweepProgress
from traitors.sweep.state import SweepState
from traitors.sweep.stopping import StopRule


class JobQueue:
    """The jobs still to start; ``take`` starts the next one (or says there is none)."""

    def __init__(
        self,
        jobs: Iterable[Job],
        on_start: Callable[[Job], None],
        admit: Callable[[Job], bool] = lambda job: True,
        wanted: Callable[[Job], bool] = lambda job: True,
    ) -> None:
        self._jobs = deque(jobs)
        self._on_start = on_start
        self._admit = admit
        self._wanted = wanted
        self.refused = 0
        """Jobs left unstarted because the budget would not admit them."""

    def __len__(self) -> int:
        return len(self._jobs)

    def peek(self) -> Job | None:
        """The next job, if any, without starting it."""
        return self._jobs[0] if self._jobs else None

    def take(self) -> Job | None:
        """The next job, marked started; None when none is left or the budget is spent.
        Jobs no longer ``wanted`` (their cell was stopped) are passed over."""
        while self._jobs and not self._wanted(self._jobs[0]):
            self._jobs.popleft()
        if not self._jobs:
            return None
        if not self._admit(self._jobs[0]):
            self.refused += len(self._jobs)
            self._jobs.clear()
            return None
        job = self._jobs.popleft()
        self._on_start(job)
        return job


class Watcher(Protocol):
    """Follows the jobs of a sweep as they start and finish (budget, stopping rule, breaker)."""

    def started(self, job: Job) -> None:
        """A job started."""

    def finished(self, result: JobResult) -> None:
        """A job's result is known."""


class Executor(Protocol):
    """Runs the queue's jobs into ``out_dir``, reporting each result; blocks until done."""

    def run(self, queue: JobQueue, out_dir: Path, on_result: Callable[[JobResult], None]) -> None:
        """Take jobs until the queue runs dry; report every result as soon as it is known."""
        ...


def run_sweep(
    jobs: list[Job],
    out_dir: Path,
    executor: Executor,
    sweep: dict[str, Any],
    progress: SweepProgress,
    retries: int = 0,
    budget: Budget | None = None,
    stop: StopRule | None = None,
    breaker: Breaker | None = None,
) -> list[JobResult]:
    """Run the jobs not yet complete; re-run failures up to ``retries`` more times.

    Returns a result per job: ``skipped`` for one already complete, ``pending`` for one
    the budget did not let start, whose cell ``stop`` stopped or whose model tripped the
    ``breaker``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    state = SweepState(out_dir, sweep, jobs)
    packed = packed_statuses(out_dir) if shard_files(out_dir) else {}
    winners = cache(lambda: packed_winners(out_dir))  # read only if the journal lags a shard
    results: dict[str, JobResult] = {}
    pending = []
    agreed = 0
    for job in jobs:
        complete, caught_up = _complete(out_dir, job, state, packed, winners)
        agreed += caught_up
        if complete:
            outcome = state.entries[job.episode_id].outcome
            results[job.episode_id] = JobResult(job.episode_id, "skipped", outcome=outcome)
            if stop is not None:
                stop.finished(results[job.episode_id])
        else:
            pending.append(job)
    progress.skipped_before_start(len(results))
    if agreed:
        state.save()
    watchers: list[Watcher] = [w for w in (budget, stop, breaker) if w is not None]
    try:
        for attempt in range(retries + 1):
            last = attempt == retries

            def started(job: Job) -> None:
                state.started(job)
                progress.start(job)
                for watcher in watchers:
                    watcher.started(job)

            def finished(result: JobResult, last: bool = last) -> None:
                results[result.episode_id] = result
                state.finished(result)
                progress.finish(result, final=last)
                for watcher in watchers:
                    watcher.finished(result)

            admit = budget.admit if budget is not None else _always
            queue = JobQueue(pending, started, admit, _wanted(stop, breaker))
            executor.run(queue, out_dir, finished)
            progress.refused(queue.refused)
            if queue.refused:
                break
            pending = [job for job in pending if _failed(results.get(job.episode_id))]
            if not pending:
                break
    except BaseException:
        state.interrupted()
        raise
    finally:
        state.close()
    return [results.get(job.episode_id, JobResult(job.episode_id, "pending")) for job in jobs]


def _failed(result: JobResult | None) -> bool:
    """Whether a job ran and failed (None: it never started; its cell was stopped)."""
    return result is not None and result.status == "failed"


def _always(job: Job) -> bool:
    return True


def _wanted(stop: StopRule | None, breaker: Breaker | None) -> Callable[[Job], bool]:
    """Whether a job is still wanted: its cell not stopped, its models not broken."""
    checks = [check.wanted for check in (stop, breaker) if check is not None]
    return lambda job: all(wanted(job) for wanted in checks)


def _complete(
    out_dir: Path,
    job: Job,
    state: SweepState,
    packed: dict[str, str],
    winners: Callable[[], dict[str, str]],
) -> tuple[bool, bool]:
    """Whether the job is complete on disk, and whether the journal had to catch up.

    Complete: the journal said so and its directory or shard is there, or its manifest says
    so, loose or packed (read as :func:`traitors.store.shards.is_complete_or_packed` reads
    it). An episode can finish after the journal's last word on it (a crash cut the
    journal; Ray actors ran on after their driver was killed): when its manifest says it
    finished, complete or not, the journal is brought to agree (``winners``: who won each
    packed episode, asked for only then)."""
    directory = out_dir / job.episode_id
    eid = job.episode_id
    if state.said_complete(eid) and (directory.is_dir() or packed.get(eid) == "complete"):
        return True, False
    manifest = read_manifest(directory)
    if manifest is not None and manifest.status in FINISHED_STATUSES:
        if manifest.played:
            return True, state.agree(JobResult.of(eid, "complete", manifest))
        reason = f"{manifest.status}: {manifest.status_reason}"
        return False, state.agree(JobResult.of(eid, "failed", manifest, reason))
    if eid not in packed:
        return False, False
    if packed[eid] == "complete":
        return True, state.agree(JobResult(eid, "complete", outcome=winners().get(eid)))
    return False, state.agree(JobResult(eid, "failed", error=f"{packed[eid]} (packed)"))
