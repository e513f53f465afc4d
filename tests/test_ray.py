"""The Ray executor on a local 2-CPU Ray instance gives the same episodes as the local one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from traitors.store.log import EVENTS, is_complete
from traitors.sweep.driver import run_sweep
from traitors.sweep.jobs import Job, JobResult
from traitors.sweep.local import LocalExecutor
from traitors.sweep.progress import SweepProgress
from traitors.sweep.ray_executor import RayExecutor
from traitors.sweep.ray_setup import ensure_ray
from traitors.sweep.spec import load_sweep

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # a local Ray instance


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[None]:
    ray = ensure_ray(num_cpus=2)
    yield
    ray.shutdown()


def jobs(tmp_path: Path) -> list[Job]:
    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"name: ray\nbase: {ROOT / 'scenarios' / 'the_traitors.yaml'}\n"
        "set: {rules.n_players: 5, rules.n_traitors: 1, rules.max_rounds: 3}\n"
        "grid:\n"
        "  agents.default.policy: [heuristic, random, llm]\n"
        "  agents.default.model: ['fake/random']\n"
        "episodes: 3\n"
    )
    return [Job.of(e) for e in load_sweep(path)[1]]


def quiet() -> SweepProgress:
    return SweepProgress(0, Console(file=open(os.devnull, "w")))


def local_and_ray(
    work: list[Job], tmp_path: Path, share_files: bool = False
) -> tuple[Path, Path, list[JobResult], list[JobResult]]:
    """Run ``work`` locally and on Ray: the two output directories and their results."""
    local_out, ray_out = tmp_path / "local", tmp_path / "ray"
    local = run_sweep(work, local_out, LocalExecutor(4), {"name": "t"}, quiet())
    executor = RayExecutor(actors=2, per_actor=4, share_files=share_files)
    try:
        remote = run_sweep(work, ray_out, executor, {"name": "t"}, quiet())
    finally:
        executor.close()
    return local_out, ray_out, local, remote


@pytest.mark.parametrize("share_files", [True, False])
def test_ray_matches_local_byte_for_byte(ray_instance, tmp_path: Path, share_files: bool) -> None:
    work = jobs(tmp_path)
    local_out, ray_out, local, remote = local_and_ray(work, tmp_path, share_files)
    assert [r.status for r in local] == [r.status for r in remote] == ["complete"] * len(work)
    for job in work:
        a, b = local_out / job.episode_id, ray_out / job.episode_id
        assert (a / EVENTS).read_bytes() == (b / EVENTS).read_bytes()
        assert is_complete(b)
        calls_a, calls_b = a / "calls.jsonl", b / "calls.jsonl"
        assert calls_a.is_file() == calls_b.is_file()
        if calls_a.is_file():
            assert calls_a.read_text().count("\n") == calls_b.read_text().count("\n")


@pytest.mark.parametrize("policy", ["heuristic", "llm"])
def test_forks_on_ray_match_local_forks(ray_instance, tmp_path: Path, policy: str) -> None:
    from traitors.commands.fork import fork_work
    from traitors.episode.fork import intervene, load_parent
    from traitors.episode.spec import load_spec
    from traitors.sweep.episodes import run_episodes

    spec = load_spec(
        ROOT / "scenarios" / "the_traitors.yaml",
        ["rules.n_players=5", "rules.n_traitors=1", f"agents.default.policy={policy}",
         "agents.default.model=fake/random"],
    )  # fmt: skip
    parent = load_parent(str(run_episodes(spec, [2], tmp_path / "parent")[0].dir))
    speech = next(e for e in parent.events if e.kind == "speak")
    work = fork_work(parent, [intervene(parent, "drop", speech.seq)], samples=2).jobs
    local_out, ray_out, local, remote = local_and_ray(work, tmp_path)
    assert [r.status for r in local] == [r.status for r in remote] == ["complete"] * 4
    for job in work:
        a, b = local_out / job.episode_id, ray_out / job.episode_id
        assert (a / EVENTS).read_bytes() == (b / EVENTS).read_bytes()
