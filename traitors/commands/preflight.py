"""Preflight: every model a command is about to call has its key set (and its file, for an
embedded model read from a ``.gguf`` file), checked before anything is written or any
episode starts (one line and exit code 2 otherwise)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from traitors.episode.spec import SpecError, played_models

if TYPE_CHECKING:
    from traitors.episode.spec import ScenarioSpec
    from traitors.sweep.jobs import Job


def check_specs(specs: Iterable[ScenarioSpec]) -> set[str]:
    """The models the specs' seats call; SpecError naming the first one whose key is unset
    or whose model file does not exist."""
    from traitors.llm.preflight import file_problem, key_problem

    models: set[str] = set()
    seen: set[int] = set()
    for spec in specs:
        if id(spec) not in seen:  # a sweep's episodes share their cell's spec object
            seen.add(id(spec))
            models |= played_models(spec)
    for model in sorted(models):
        if problem := key_problem(model) or file_problem(model):
            raise SpecError(problem)
    return models


def check_jobs(jobs: Iterable[Job]) -> set[str]:
    """As ``check_specs``, for the specs jobs play (a fork's continuation spec for forks)."""
    from traitors.episode.fork import ForkPlan

    return check_specs(
        ForkPlan(job.fork).continuation_spec(job.spec) if job.fork else job.spec for job in jobs
    )
