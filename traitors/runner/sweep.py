"""Drive a sweep through an executor: skip what is complete, retry what failed, keep state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from traitors.log import is_complete
from traitors.runner.jobs import Job, JobResult
from traitors.runner.progress import SweepProgress
from traitors.runner.state import SweepState


class Executor(Protocol):
    """Runs jobs and reports each start and result; blocks until all are done."""

    def run(
        self,
        jobs: list[Job],
        out_dir: Path,
        on_start: Callable[[Job], None],
        on_result: Callable[[JobResult], None],
    ) -> None:
        """Run every job into ``out_dir``."""
        ...


def run_sweep(
    jobs: list[Job],
    out_dir: Path,
    executor: Executor,
    sweep: dict[str, Any],
    progress: SweepProgress,
    retries: int = 0,
) -> list[JobResult]:
    """Run the jobs not yet complete; re-run failures up to ``retries`` more times."""
    out_dir.mkdir(parents=True, exist_ok=True)
    state = SweepState(out_dir, sweep, jobs)
    results: dict[str, JobResult] = {}
    pending = []
    for job in jobs:
        if is_complete(out_dir / job.episode_id):
            progress.skipped_before_start()
            results[job.episode_id] = JobResult(job.episode_id, "skipped")
            state.finished(results[job.episode_id])
        else:
            pending.append(job)
    by_id = {job.episode_id: job for job in jobs}
    try:
        for attempt in range(retries + 1):
            last = attempt == retries

            def started(job: Job) -> None:
                state.started(job)
                progress.start(job)

            def finished(result: JobResult, last: bool = last) -> None:
                results[result.episode_id] = result
                state.finished(result)
                progress.finish(result, final=last)

            executor.run(pending, out_dir, started, finished)
            pending = [by_id[i] for i, r in results.items() if r.status == "failed"]
            if not pending:
                break
    except BaseException:
        state.interrupted()
        raise
    return [results[job.episode_id] for job in jobs]
