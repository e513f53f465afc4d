"""The local executor: many episodes at once in one process's asyncio event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from traitors.sweep.driver import JobQueue
from traitors.sweep.jobs import JobResult, execute
from traitors.sweep.spec import InferenceSpec


class LocalExecutor:
    """Runs up to ``concurrency`` episodes at once in this process's event loop."""

    def __init__(self, concurrency: int = 4, inference: Sequence[InferenceSpec] = ()) -> None:
        self.concurrency = concurrency
        self.inference = list(inference)
        self._pool: Any = None

    def run(self, queue: JobQueue, out_dir: Path, on_result: Callable[[JobResult], None]) -> None:
        """Run the queue's jobs, ``concurrency`` at a time; each result is reported as soon as
        it is known."""
        if self.inference and self._pool is None:
            from traitors.sweep.ray_setup import ensure_ray
            from traitors.sweep.services import configure_gateway, inference_options
            from traitors.sweep.workers import start_inference

            ensure_ray()
            self._pool = start_inference(self.inference)
            configure_gateway(**inference_options(self.inference, self._pool.routes()))
        asyncio.run(self._run(queue, out_dir, on_result))

    def close(self) -> None:
        """Stop the inference servers, if any were started."""
        if self._pool is not None:
            self._pool.stop()
            self._pool = None

    async def _run(
        self, queue: JobQueue, out_dir: Path, on_result: Callable[[JobResult], None]
    ) -> None:
        async def worker() -> None:  # a fixed pool: memory does not grow with the sweep
            while (job := queue.take()) is not None:
                on_result(await execute(job, out_dir))

        async with asyncio.TaskGroup() as group:
            for _ in range(self.concurrency):
                group.create_task(worker())
