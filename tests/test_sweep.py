"""Sweeps: expansion, the local executor, resume after a crash, and fault injection."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import ClassVar

import pytest
from rich.console import Console

from traitors.cli import main
from traitors.episode.spec import SpecError
from traitors.game.registry import register_policy
from traitors.store.journal import read_journal
from traitors.store.log import ERROR, EVENTS, MANIFEST, is_complete
from traitors.sweep.driver import run_sweep
from traitors.sweep.jobs import Job
from traitors.sweep.local import LocalExecutor
from traitors.sweep.progress import SweepProgress
from traitors.sweep.spec import load_sweep
from traitors.sweep.state import SWEEP_FILE

ROOT = Path(__file__).resolve().parent.parent


def write_sweep(tmp_path: Path, body: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    base = ROOT / "scenarios" / "the_traitors.yaml"
    path.write_text(f"name: test\nbase: {base}\n" + body)
    return path


def quiet() -> SweepProgress:
    return SweepProgress(0, Console(file=open(os.devnull, "w")))


def sweep_jobs(path: Path) -> list[Job]:
    return [Job.of(e) for e in load_sweep(path)[1]]


SCRIPTED = "set: {agents.default.policy: heuristic, rules.n_traitors: 1}\n"


def test_grid_and_zip_expand_deterministically(tmp_path: Path) -> None:
    path = write_sweep(
        tmp_path,
        SCRIPTED
        + "grid: {rules.n_players: [6, 8], agents.faithful.policy: [random, heuristic]}\n"
        + "zip: [{rules.n_traitors: [1, 2], rules.max_rounds: [3, 5]}]\n"
        + "episodes: 3\nseed: 10\n",
    )
    _, episodes = load_sweep(path)
    assert len(episodes) == 2 * 2 * 2 * 3
    cells = {e.cell: e.factors for e in episodes}
    assert len(cells) == 8
    assert cells[0] == {
        "rules.n_players": 6,
        "agents.faithful.policy": "random",
        "rules.n_traitors": 1,
        "rules.max_rounds": 3,
    }
    zipped = {(f["rules.n_traitors"], f["rules.max_rounds"]) for f in cells.values()}
    assert zipped == {(1, 3), (2, 5)}  # zip varies in step, not as a product
    for episode in episodes:
        assert episode.spec.rules["n_players"] == episode.factors["rules.n_players"]
        assert episode.spec.agents["faithful"].policy == episode.factors["agents.faithful.policy"]
        assert episode.spec.agents["default"].policy == "heuristic"
    assert sorted({e.seed for e in episodes}) == [10, 11, 12]  # same seeds in every cell
    assert len({e.episode_id for e in episodes}) == len(episodes)
    again = load_sweep(path)[1]
    assert [e.episode_id for e in again] == [e.episode_id for e in episodes]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("grid: {rules.n_player: [6]}\n", "rules.n_player: unknown field"),
        ("grid: {rules.n_players: [3]}\n", "fewer than half"),
        ("grid: {name.first: [x]}\n", "name is not a mapping"),
        ("zip: [{rules.n_players: [6, 8], rules.n_traitors: [1]}]\n", "differ in length"),
        ("grid: {agents.wizard.model: [x]}\n", "agents.wizard"),
        ("episodes: 0\n", "episodes"),
    ],
)
@pytest.mark.slow
def test_bad_sweeps_exit_2_naming_the_field(tmp_path: Path, body: str, message: str) -> None:
    path = write_sweep(tmp_path, body)
    with pytest.raises(SpecError, match=message):
        load_sweep(path)
    result = subprocess.run(
        [sys.executable, "-m", "traitors.cli", "sweep", str(path), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_dry_run_prints_the_expansion(tmp_path: Path, capsys) -> None:
    path = write_sweep(tmp_path, SCRIPTED + "grid: {rules.n_players: [7, 9]}\nepisodes: 2\n")
    assert main(["sweep", str(path), "--dry-run", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "rules.n_players=7" in out and "rules.n_players=9" in out and "4 episodes" in out
    assert not (tmp_path / "out").exists()


def test_local_executor_runs_everything_then_skips_it(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, SCRIPTED + "grid: {rules.n_players: [5, 7]}\nepisodes: 4\n")
    jobs = sweep_jobs(path)
    out = tmp_path / "run"
    results = run_sweep(jobs, out, LocalExecutor(4), {"name": "t"}, quiet())
    assert [r.status for r in results] == ["complete"] * 8
    state = json.loads((out / SWEEP_FILE).read_text())
    assert {e["status"] for e in state["episodes"].values()} == {"complete"}
    assert state["code_version"]
    again = run_sweep(jobs, out, LocalExecutor(4), {"name": "t"}, quiet())
    assert [r.status for r in again] == ["skipped"] * 8


class _Crashing:
    """A policy that raises on some seats' first decision (fault injection)."""

    attempts: ClassVar[dict[str, int]] = {}
    fail_times = 1

    def __init__(self, key: str) -> None:
        self.key = key

    @classmethod
    def create(cls, context):
        return cls(f"{context.seed}")

    async def decide(self, observation, request):
        count = self.attempts.get(self.key, 0)
        self.attempts[self.key] = count + 1
        if count < self.fail_times:
            raise RuntimeError("injected crash")
        from scenarios.the_traitors import WORDS, TraitorsHeuristic

        return await TraitorsHeuristic(observation.agent, 0, WORDS).decide(observation, request)


def test_an_episode_that_raises_is_recorded_and_retried(tmp_path: Path) -> None:
    register_policy("crashing", _Crashing)
    _Crashing.attempts.clear()
    path = write_sweep(
        tmp_path,
        SCRIPTED + "grid: {agents.Alice.policy: [crashing, heuristic]}\nepisodes: 2\n",
    )
    jobs = sweep_jobs(path)
    out = tmp_path / "run"
    results = run_sweep(jobs, out, LocalExecutor(2), {"name": "t"}, quiet())
    failed = [r for r in results if r.status == "failed"]
    assert len(failed) == 2 and all("injected crash" in (r.error or "") for r in failed)
    for result in failed:
        directory = out / result.episode_id
        assert "injected crash" in (directory / ERROR).read_text()
        manifest = json.loads((directory / MANIFEST).read_text())
        assert manifest["status"] == "failed" and not is_complete(directory)
    assert sum(r.status == "complete" for r in results) == 2  # the sweep went on
    state = json.loads((out / SWEEP_FILE).read_text())
    assert (
        sorted(e["status"] for e in state["episodes"].values()) == ["complete"] * 2 + ["failed"] * 2
    )
    retried = run_sweep(jobs, out, LocalExecutor(2), {"name": "t"}, quiet(), retries=1)
    assert sorted(r.status for r in retried) == ["complete", "complete", "skipped", "skipped"]
    assert all(is_complete(out / job.episode_id) for job in jobs)


@pytest.mark.slow
def test_a_provider_failing_30_percent_loses_nothing(tmp_path: Path, monkeypatch) -> None:
    from traitors.llm.gateway import Gateway

    # 10 attempts: a call fails for good once in 170,000 (30% ** 10), so none may fail here.
    gateway = Gateway(backoff=0.001, max_backoff=0.001, max_attempts=10)
    monkeypatch.setattr("traitors.sweep.services._gateway", gateway)
    path = write_sweep(
        tmp_path,
        "set: {agents.default.policy: llm, agents.default.model: 'fake/random?fail=0.3',"
        " rules.n_players: 5, rules.n_traitors: 1, rules.max_rounds: 2}\nepisodes: 6\n",
    )
    jobs = sweep_jobs(path)
    out = tmp_path / "run"
    results = run_sweep(jobs, out, LocalExecutor(6), {"name": "t"}, quiet())
    assert [r.status for r in results] == ["complete"] * 6
    retried = 0
    for job in jobs:
        directory = out / job.episode_id
        manifest = json.loads((directory / MANIFEST).read_text())
        calls = [json.loads(x) for x in (directory / "calls.jsonl").read_text().splitlines()]
        assert len(calls) == manifest["usage"]["calls"] > 0
        retried += sum(c["attempts"] > 1 for c in calls)
        events = (directory / EVENTS).read_text().splitlines()
        assert len(events) == manifest["n_events"]
    assert retried > 0


def complete_in(out: Path) -> set[str]:
    """The episodes under ``out`` whose manifest says complete."""
    return (
        {p.name for p in out.iterdir() if p.is_dir() and is_complete(p)} if out.is_dir() else set()
    )


@pytest.mark.slow
def test_resume_after_sigkill_of_the_driver(tmp_path: Path) -> None:
    path = write_sweep(
        tmp_path,
        "set: {agents.default.policy: llm, agents.default.model: 'fake/random?latency=0.05',"
        " rules.n_players: 5, rules.n_traitors: 1, rules.max_rounds: 2}\nepisodes: 8\n",
    )
    out = tmp_path / "run"
    command = [sys.executable, "-m", "traitors.cli", "sweep", str(path), "--out", str(out)]
    driver = subprocess.Popen([*command, "--concurrency", "2"], stdout=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(complete_in(out)) < 2:
        time.sleep(0.05)
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    done_before = complete_in(out)
    started = {p.parent.name for p in out.glob("*/events.jsonl")}
    assert 2 <= len(done_before) < 8, "the kill should land mid-sweep"
    partial = started - done_before
    assert partial, "some episode should have been cut off mid-way"
    for name in partial:
        assert not is_complete(out / name)  # a partial episode never looks complete
    finished_at = {name: (out / name / MANIFEST).stat().st_mtime_ns for name in done_before}
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    expected = {j.episode_id for j in sweep_jobs(path)}
    episode_dirs = {p.name for p in out.iterdir() if p.is_dir()}
    assert episode_dirs == expected  # every episode once, nothing extra
    for name in expected:
        manifest = json.loads((out / name / MANIFEST).read_text())
        lines = (out / name / EVENTS).read_text().splitlines()
        assert len(lines) == manifest["n_events"]  # redone from scratch, not appended
        assert json.loads(lines[-1])["kind"] == "game_over"
    for name in done_before:  # finished episodes were not run again
        assert (out / name / MANIFEST).stat().st_mtime_ns == finished_at[name]
    state = json.loads((out / SWEEP_FILE).read_text())
    assert {e["status"] for e in state["episodes"].values()} == {"complete"}


def ignore_sigint() -> None:
    """What a shell does to a job it starts in the background (``cmd &``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(
    ("sig", "background"),
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGTERM, True)],
    ids=["ctrl-c", "sigterm", "sigterm-to-a-background-job"],
)
@pytest.mark.slow
def test_interrupt_stops_cleanly_and_says_how_to_resume(
    tmp_path: Path, sig: int, background: bool
) -> None:
    path = write_sweep(
        tmp_path,
        "set: {agents.default.policy: llm, agents.default.model: 'fake/random?latency=0.05',"
        " rules.n_players: 5, rules.n_traitors: 1}\nepisodes: 6\n",
    )
    out = tmp_path / "run"
    command = [sys.executable, "-m", "traitors.cli", "sweep", str(path), "--out", str(out)]
    driver = subprocess.Popen(
        [*command, "--concurrency", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=ignore_sigint if background else None,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.glob("*/events.jsonl")):
        time.sleep(0.05)
    time.sleep(0.3)
    driver.send_signal(sig)
    output, _ = driver.communicate(timeout=60)
    assert driver.returncode == 130, output
    assert "interrupted" in output and f"traitors sweep {path} --out {out}" in output
    assert "Traceback" not in output
    statuses = {e.status for e in read_journal(out).values()}
    assert "running" not in statuses and "interrupted" in statuses
    state = json.loads((out / SWEEP_FILE).read_text())
    assert "running" not in {e["status"] for e in state["episodes"].values()}
    assert "interrupted" in {e["status"] for e in state["episodes"].values()}
