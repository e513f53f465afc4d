"""Run single episodes into their directories; carry lessons between episodes of a run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from traitors.episode.core import EpisodeObserver
from traitors.episode.engine import run_episode
from traitors.episode.fork import ForkPlan, load_parent
from traitors.episode.recorded import played_from_log
from traitors.episode.spec import ScenarioSpec, episode_id
from traitors.store.log import EpisodeWriter, is_complete, read_episode, read_manifest
from traitors.store.manifest import ForkRecord, Manifest
from traitors.store.shards import (
    EXTRACTED_DIR,
    FINISHED_STATUSES,
    extract,
    packed_statuses,
    shard_files,
)
from traitors.sweep.services import live_services

MEMORY_DIR = "memory"


@dataclass(frozen=True)
class EpisodeSummary:
    """One finished episode as the CLI reports it."""

    episode_id: str
    seed: int
    dir: Path
    manifest: Manifest
    skipped: bool
    """True if the episode was already complete on disk and not run again."""


def load_lessons(out_dir: Path) -> dict[str, str]:
    """Each seat's saved lessons in a run (``memory: persist``)."""
    directory = out_dir / MEMORY_DIR
    if not directory.is_dir():
        return {}
    return {path.stem: path.read_text() for path in sorted(directory.glob("*.txt"))}


def save_lessons(out_dir: Path, lessons: dict[str, str]) -> None:
    """Store each seat's lessons for its next episode in this run."""
    directory = out_dir / MEMORY_DIR
    directory.mkdir(parents=True, exist_ok=True)
    for seat, text in lessons.items():
        (directory / f"{seat}.txt").write_text(text)


async def run_one(
    spec: ScenarioSpec,
    seed: int,
    out_dir: Path,
    observers: Sequence[EpisodeObserver] = (),
    fork: ForkRecord | None = None,
) -> EpisodeSummary:
    """Run (or keep, if already complete) one episode into ``out_dir/<episode_id>/``;
    with ``fork``, the fork of its parent (``spec`` and ``seed`` are the parent's)."""
    if fork is not None:
        return await _run_fork(spec, seed, out_dir, fork, observers)
    eid = episode_id(spec, seed)
    directory = out_dir / eid
    if is_complete(directory):
        return EpisodeSummary(eid, seed, directory, read_episode(directory).manifest, True)
    persist = spec.memory == "persist"
    writer = EpisodeWriter(directory)
    services = live_services(writer, load_lessons(out_dir) if persist else None, persist)
    result = await run_episode(spec, seed, writer=writer, services=services, observers=observers)
    if persist:
        save_lessons(out_dir, result.manifest.lessons_out)
    return EpisodeSummary(eid, seed, directory, result.manifest, False)


async def _run_fork(
    spec: ScenarioSpec,
    seed: int,
    out_dir: Path,
    record: ForkRecord,
    observers: Sequence[EpisodeObserver] = (),
) -> EpisodeSummary:
    plan = ForkPlan(record)
    directory = out_dir / plan.episode_id
    if is_complete(directory):
        manifest = read_episode(directory).manifest
        return EpisodeSummary(plan.episode_id, seed, directory, manifest, True)
    parent = load_parent(record.parent_dir)
    plan = ForkPlan(record, prefix=tuple(parent.events[: record.at]))
    writer = EpisodeWriter(directory)
    services = live_services(writer, parent.log.manifest.lessons_in)
    services.calls.recorded = parent.calls
    result = await run_episode(
        spec,
        seed,
        writer=writer,
        services=services,
        policies=played_from_log(parent.log),
        observers=observers,
        fork=plan,
    )
    return EpisodeSummary(plan.episode_id, seed, directory, result.manifest, False)


def run_episodes(
    spec: ScenarioSpec,
    seeds: Iterable[int],
    out_dir: Path,
    on_done: Callable[[EpisodeSummary], None] | None = None,
    observers: Sequence[EpisodeObserver] = (),
) -> list[EpisodeSummary]:
    """Run one episode per seed, in order, into ``out_dir``; complete ones are kept, loose
    or packed into the run's shards (``traitors compact``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    packed = packed_statuses(out_dir) if shard_files(out_dir) else {}

    async def run_all() -> list[EpisodeSummary]:
        summaries = []
        for seed in seeds:
            summary = _packed(spec, seed, out_dir, packed) or await run_one(
                spec, seed, out_dir, observers
            )
            summaries.append(summary)
            if on_done is not None:
                on_done(summary)
        return summaries

    return asyncio.run(run_all())


def _packed(
    spec: ScenarioSpec, seed: int, out_dir: Path, packed: dict[str, str]
) -> EpisodeSummary | None:
    """The summary of an episode complete in a shard and not finished loose (readers read
    the packed copy), extracted into ``out_dir/.extracted/`` to be shown; else None."""
    eid = episode_id(spec, seed) if packed else ""
    if packed.get(eid) != "complete":
        return None
    loose = read_manifest(out_dir / eid)
    if loose is not None and loose.status in FINISHED_STATUSES:
        return None  # the loose copy is the one read: run_one decides
    directory = extract(out_dir, eid, out_dir / EXTRACTED_DIR)
    return EpisodeSummary(eid, seed, directory, read_episode(directory).manifest, True)
