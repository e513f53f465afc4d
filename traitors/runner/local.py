"""The local executor: many episodes at once in one process's asyncio event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from traitors.runner.jobs import Job, JobResult, execute
from traitors.spec import InferenceSpec


class LocalExecutor:
    """Runs up to ``concurrency`` episodes at once in this process's event loop."""

    def __init__(self, concurrency: int = 4, inference: Sequence[InferenceSpec] = ()) -> None:
        self.concurrency = concurrency
        self.inference = list(inference)
        self._pool: Any = None

    def run(
        self,
        jobs: list[Job],
        out_dir: Path,
        on_start: Callable[[Job], None],
        on_result: Callable[[JobResult], None],
    ) -> None:
        """Run every job; each result is reported as soon as it is known."""
        if self.inference and self._pool is None:
            from traitors.runner.ray_setup import ensure_ray
            from traitors.runner.services import configure_gateway, inference_options
            from traitors.runner.workers import start_inference

            ensure_ray()
            self._pool = start_inference(self.inference)
            configure_gateway(**inference_options(self.inference, self._pool.routes()))
        asyncio.run(self._run(jobs, out_dir, on_start, on_result))

    def close(self) -> None:
        """Stop the inference servers, if any were started."""
        if self._pool is not None:
            self._pool.stop()
            self._pool = None

    async def _run(
        self,
        jobs: list[Job],
        out_dir: Path,
        on_start: Callable[[Job], None],
        on_result: Callable[[JobResult], None],
    ) -> None:
        limit = asyncio.Semaphore(self.concurrency)

        async def one(job: Job) -> None:
            async with limit:
                on_start(job)
                on_result(await execute(job, out_dir))

        async with asyncio.TaskGroup() as group:
            for job in jobs:
                group.create_task(one(job))
