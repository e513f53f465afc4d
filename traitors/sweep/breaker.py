"""The circuit breaker: a sweep stops starting episodes of a model after K consecutive
degraded episodes of that model, so a missing key or an outage costs K episodes, not all."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from traitors.episode.fork import ForkPlan
from traitors.episode.spec import played_models
from traitors.sweep.jobs import Job, JobResult
from traitors.util.text import printable


@dataclass
class Breaker:
    """Counts each model's run of degraded episodes; ``wanted`` holds back the jobs of a
    model whose run reached ``limit``."""

    limit: int
    """Consecutive degraded episodes of one model that trip the breaker (``--breaker K``)."""
    streak: Counter[str] = field(default_factory=Counter)
    tripped: dict[str, str] = field(default_factory=dict)
    """Model -> the last error of its episodes, once the breaker tripped for it."""
    held: set[str] = field(default_factory=set)
    """Episode ids not started because a model of theirs tripped the breaker."""
    _models: dict[tuple[int, tuple[str, ...]], frozenset[str]] = field(default_factory=dict)
    _jobs: dict[str, Job] = field(default_factory=dict)

    def models(self, job: Job) -> frozenset[str]:
        """The models the job's seats call (computed once per spec and fork change)."""
        plan = ForkPlan(job.fork) if job.fork is not None else None
        key = (id(job.spec), plan.overrides() if plan is not None else ())
        if key not in self._models:
            spec = plan.continuation_spec(job.spec) if plan is not None else job.spec
            self._models[key] = frozenset(played_models(spec))
        return self._models[key]

    def wanted(self, job: Job) -> bool:
        """Whether the job may start: none of its models tripped the breaker."""
        if self.tripped and self.models(job) & self.tripped.keys():
            self.held.add(job.episode_id)
            return False
        return True

    def started(self, job: Job) -> None:
        """Remember which models the job calls."""
        self._jobs[job.episode_id] = job

    def finished(self, result: JobResult) -> None:
        """A degraded episode lengthens its models' runs; a complete one ends them."""
        job = self._jobs.pop(result.episode_id, None)
        if job is None or self.limit <= 0:
            return
        for model in self.models(job):
            if result.degraded:
                self.streak[model] += 1
                if self.streak[model] >= self.limit:
                    self.tripped[model] = (result.call_error or result.error or "degraded").strip()
            elif result.status == "complete":
                self.streak[model] = 0

    def lines(self, resume: str) -> list[str]:
        """One line per tripped model: the model, its last error, the command that resumes."""
        return [
            f"circuit breaker: {model}: {self.limit} degraded episodes in a row, last: "
            f"{printable(' '.join(error.split())[:300])}; no more of its episodes started. "
            f"Fix it, then resume with: {resume}"
            for model, error in sorted(self.tripped.items())
        ]
