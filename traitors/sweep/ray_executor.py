"""The Ray executor: episodes run inside Ray async actors, each holding many at once.

The driver hands out jobs, least-loaded actor first, and collects results with
``ray.wait``. Episodes that call a model go one per task (an actor holds many at once,
waiting on the model); scripted episodes go in batches of ``batch`` per task, so Ray's cost
per task is spread over many episodes and N CPUs run N times as many. When an actor shares
the driver's filesystem (it finds the driver's token file in the output directory) it
writes the episode directory in place, so the episode can be watched while it runs;
otherwise it runs into a scratch directory and returns the files, which the driver writes
with the same atomic scheme (manifest last).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from traitors.episode.spec import seat_policies
from traitors.store.log import CALLS, ERROR, EVENTS, MANIFEST, write_bytes_atomic
from traitors.sweep.driver import JobQueue
from traitors.sweep.jobs import Job, JobResult, execute
from traitors.sweep.ray_setup import ensure_ray, import_ray
from traitors.sweep.spec import InferenceSpec

TOKEN_FILE = ".driver-token"
MODEL_FREE = frozenset({"heuristic", "random"})
"""Policies that call no model: their episodes are CPU-bound and go in batches."""
EPISODE_FILES = (EVENTS, CALLS, ERROR)


class EpisodeActor:
    """Runs episodes concurrently inside one Ray actor process."""

    def __init__(self, out_dir: str, token: str, gateway: dict[str, Any] | None) -> None:
        token_path = Path(out_dir) / TOKEN_FILE
        self.shared = token_path.is_file() and token_path.read_text() == token
        self.out_dir = Path(out_dir) if self.shared else Path(tempfile.mkdtemp(prefix="traitors-"))
        if gateway:
            from traitors.sweep.services import configure_gateway

            configure_gateway(**gateway)

    def ready(self, llm: bool) -> bool:
        """Answer once the actor is up; with ``llm``, import litellm first (takes seconds)."""
        if llm:
            from traitors.llm.library import import_litellm

            import_litellm()
        return True

    async def run(self, jobs: list[Job]) -> list[tuple[JobResult, dict[str, bytes] | None]]:
        """Run a batch of jobs; each result and, without a shared filesystem, its episode's
        files."""
        returned = []
        for job in jobs:  # one after another: a batch is CPU-bound, interleaving only costs
            result = await execute(job, self.out_dir)
            returned.append((result, self._files(result)))
        return returned

    def _files(self, result: JobResult) -> dict[str, bytes] | None:
        if self.shared or result.status == "skipped":
            return None
        directory = self.out_dir / result.episode_id
        files = {
            name: (directory / name).read_bytes()
            for name in (*EPISODE_FILES, MANIFEST)
            if (directory / name).is_file()
        }
        shutil.rmtree(directory, ignore_errors=True)
        return files


def calls_models(job: Job) -> bool:
    """Whether any seat of the job's episode may call a model (or wait on a person): the
    layers are looked at first; when one names such a policy, whether a seat plays it
    (a design's seats may all play model-free policies over an LLM default)."""
    policies = {layer.policy for layer in job.spec.agents.values() if layer.policy}
    return not policies <= MODEL_FREE and not seat_policies(job.spec) <= MODEL_FREE


def store_files(directory: Path, files: dict[str, bytes]) -> None:
    """Write a returned episode: logs first, the manifest last and atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MANIFEST).unlink(missing_ok=True)
    for name in EPISODE_FILES:
        if name in files:
            (directory / name).write_bytes(files[name])
    if MANIFEST in files:
        write_bytes_atomic(directory / MANIFEST, files[MANIFEST])


class RayExecutor:
    """Hands jobs to Ray episode actors and collects their results."""

    def __init__(
        self,
        address: str | None = None,
        actors: int | None = None,
        per_actor: int = 16,
        batch: int = 32,
        inference: Sequence[InferenceSpec] = (),
        share_files: bool = True,
        gateway: dict[str, Any] | None = None,
    ) -> None:
        self.address = address
        self.actors = actors
        self.per_actor = per_actor
        """Episodes calling a model that an actor holds at once."""
        self.batch = batch
        """Scripted episodes per task (two tasks are kept in flight per actor)."""
        self.inference = list(inference)
        self.share_files = share_files
        """False forces the no-shared-filesystem path (actors return files)."""
        self.gateway = dict(gateway or {})
        """Gateway options for every actor's process (e.g. ``default_limit``)."""
        self._actors: list[Any] = []
        self._pool: Any = None

    def start(self, out_dir: Path, warm_llm: bool = False) -> None:
        """Start the actors for ``out_dir`` and wait until they answer (``run`` does this too)."""
        ray = ensure_ray(self.address)
        if not self._actors:
            self._create(ray, out_dir)
        ray.get([actor.ready.remote(warm_llm) for actor in self._actors])

    def _create(self, ray: Any, out_dir: Path) -> None:
        token = uuid.uuid4().hex
        (out_dir / TOKEN_FILE).write_text(token if self.share_files else "not-shared")
        gateway = dict(self.gateway)
        if self.inference:
            from traitors.sweep.services import inference_options
            from traitors.sweep.workers import start_inference

            self._pool = start_inference(self.inference)
            gateway |= inference_options(self.inference, self._pool.routes())
        count = self.actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
        remote = ray.remote(num_cpus=0)(EpisodeActor)
        self._actors = [
            remote.options(max_concurrency=self.per_actor).remote(str(out_dir), token, gateway)
            for _ in range(count)
        ]

    def run(self, queue: JobQueue, out_dir: Path, on_result: Callable[[JobResult], None]) -> None:
        """Run the queue's jobs on the actors; results are reported as they arrive."""
        ray = import_ray()
        if not self._actors:
            self.start(out_dir)
        slots = max(self.per_actor, 2 * self.batch)
        load = [0] * len(self._actors)
        inflight: dict[Any, tuple[list[Job], int]] = {}
        while True:
            while min(load) < slots and (batch := self._next_batch(queue)):
                index = load.index(min(load))
                inflight[self._actors[index].run.remote(batch)] = (batch, index)
                load[index] += len(batch)
            if not inflight:
                return
            done, _ = ray.wait(list(inflight), num_returns=1)
            batch, index = inflight.pop(done[0])
            load[index] -= len(batch)
            for result in self._collect(ray, done[0], batch, out_dir):
                on_result(result)

    def _next_batch(self, queue: JobQueue) -> list[Job]:
        """One job calling a model, or up to ``batch`` scripted jobs."""
        batch: list[Job] = []
        while len(batch) < self.batch and (job := queue.peek()) is not None:
            if calls_models(job) and batch:
                break
            taken = queue.take()
            if taken is None:
                break
            batch.append(taken)
            if calls_models(taken):
                break
        return batch

    def _collect(self, ray: Any, ref: Any, batch: list[Job], out_dir: Path) -> list[JobResult]:
        try:
            returned = ray.get(ref)
        except ray.exceptions.RayError as exc:
            error = f"Ray actor failed: {exc}"
            return [JobResult(job.episode_id, "failed", error=error) for job in batch]
        results = []
        for result, files in returned:
            if files is not None:
                store_files(out_dir / result.episode_id, files)
            results.append(result)
        return results

    def close(self) -> None:
        """Stop the inference servers and the actors."""
        if self._pool is not None:
            self._pool.stop()
        ray = import_ray()
        for actor in self._actors:
            ray.kill(actor)
        self._actors = []
