"""Sweeps at scale: O(1) bookkeeping per episode, kill -9 at any point, SIGTERM, budgets."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_sweep import quiet, sweep_jobs, write_sweep

import traitors.sweep.state as state_module
from traitors.cli import main
from traitors.store.journal import JOURNAL, Entry, read_journal
from traitors.store.log import EVENTS, MANIFEST, is_complete
from traitors.sweep.budget import Budget, Spend
from traitors.sweep.driver import run_sweep
from traitors.sweep.jobs import JobResult
from traitors.sweep.local import LocalExecutor
from traitors.sweep.state import SWEEP_FILE

SLOW_LLM = (
    "set: {agents.default.policy: llm, agents.default.model: 'fake/random?latency=0.02',"
    " rules.n_players: 5, rules.n_traitors: 1, rules.max_rounds: 2}\n"
)


def test_the_summary_is_written_a_few_times_not_per_episode(tmp_path, monkeypatch) -> None:
    saves = []
    original = state_module.SweepState.save
    monkeypatch.setattr(state_module.SweepState, "save", lambda self: saves.append(original(self)))
    body = "set: {agents.default.policy: heuristic, rules.n_traitors: 1}\nepisodes: 40\n"
    jobs = sweep_jobs(write_sweep(tmp_path, body))
    results = run_sweep(jobs, tmp_path / "out", LocalExecutor(8), {"name": "t"}, quiet())
    assert [r.status for r in results] == ["complete"] * 40
    assert len(saves) <= 3  # start and end (and none per episode)
    journal = (tmp_path / "out" / JOURNAL).read_text().splitlines()
    assert len(journal) == 40 + 2 * 40  # compacted at start, then running + complete each
    summary = json.loads((tmp_path / "out" / SWEEP_FILE).read_text())
    assert summary["counts"] == {"complete": 40}
    assert {e["status"] for e in summary["episodes"].values()} == {"complete"}


def test_a_cut_journal_line_is_ignored_and_the_last_line_wins(tmp_path: Path) -> None:
    lines = [Entry("running", 1).line("a"), Entry("complete", 1).line("a")]
    lines += [Entry("running", 1).line("b"), '{"id": "c", "sta']
    (tmp_path / JOURNAL).write_text("".join(lines))
    entries = read_journal(tmp_path)
    assert entries["a"].status == "complete" and entries["b"].status == "running"
    assert "c" not in entries


@pytest.mark.slow
def test_kill_9_at_random_points_loses_and_doubles_nothing(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, SLOW_LLM + "episodes: 10\n")
    out = tmp_path / "run"
    command = [sys.executable, "-m", "traitors.cli", "sweep", str(path), "--out", str(out)]
    rng = random.Random(7)
    for _ in range(4):
        started = time.time()
        driver = subprocess.Popen([*command, "--concurrency", "3"], stdout=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, 1.5))
        deadline = time.monotonic() + 120
        while not mid_episode(out, started):
            assert time.monotonic() < deadline, "no episode started"
            time.sleep(0.01)
        driver.kill()
        driver.wait()
        assert mid_episode(out, started), "the kill landed between episodes"
    final = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stdout + final.stderr
    expected = {job.episode_id for job in sweep_jobs(path)}
    assert {p.name for p in out.iterdir() if p.is_dir()} == expected  # each episode once
    for name in expected:
        directory = out / name
        manifest = json.loads((directory / MANIFEST).read_text())
        assert is_complete(directory)
        assert len((directory / EVENTS).read_text().splitlines()) == manifest["n_events"]
    entries = read_journal(out)
    assert {entries[name].status for name in expected} == {"complete"}
    summary = json.loads((out / SWEEP_FILE).read_text())
    assert summary["counts"] == {"complete": 10}


def mid_episode(out: Path, since: float) -> list[Path]:
    """Episodes a driver started at ``since`` has written events of and not finished."""
    if not out.is_dir():
        return []
    return [
        directory
        for directory in out.iterdir()
        if (directory / EVENTS).is_file()
        and (directory / EVENTS).stat().st_mtime >= since
        and not is_complete(directory)
    ]


PRICED = (
    "set: {agents.default.policy: llm, agents.default.model: 'fake/random?price=0.01',"
    " rules.n_players: 5, rules.n_traitors: 1, rules.max_rounds: 2}\n"
)


@pytest.mark.slow
def test_a_budget_stops_scheduling_before_it_is_passed(tmp_path: Path, capsys) -> None:
    path = write_sweep(tmp_path, PRICED + "episodes: 12\n")
    out = tmp_path / "run"
    budget = 0.5
    args = ["sweep", str(path), "--out", str(out), "--concurrency", "2", "--max-cost", str(budget)]
    assert main(args) == 3
    said = capsys.readouterr().out
    assert "budget reached" in said and "--max-cost " in said
    manifests = [json.loads(p.read_text()) for p in out.glob("*/manifest.json")]
    spent = sum(m["usage"]["cost"] for m in manifests)
    assert 0 < spent <= budget and 0 < len(manifests) < 12
    # The same command with a larger budget resumes and finishes.
    more = ["sweep", str(path), "--out", str(out), "--max-cost", "1000"]
    assert main(more) == 0
    assert sum(is_complete(p) for p in out.iterdir() if p.is_dir()) == 12


def test_the_dry_run_prints_expected_calls_tokens_and_cost(tmp_path: Path, capsys) -> None:
    path = write_sweep(tmp_path, PRICED + "grid: {rules.n_players: [5, 7]}\nepisodes: 3\n")
    assert main(["sweep", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "calls/ep" in out and "total" in out and "$" in out
    assert not (tmp_path / "runs").exists()


def test_budget_counts_running_episodes_and_learns_from_finished_ones() -> None:
    jobs = sweep_jobs_stub(4)
    budget = Budget(max_cost=1.0, max_tokens=None, estimate=lambda job: Spend(0.3, 100))
    assert budget.admit(jobs[0])
    budget.started(jobs[0])
    budget.started(jobs[1])
    budget.started(jobs[2])
    assert not budget.admit(jobs[3])  # 3 x 0.3 running + 0.3 > 1.0
    budget.finished(JobResult(jobs[0].episode_id, "complete", usage={"cost": 0.05}))
    assert budget.expected(jobs[3]) == Spend(0.05, 0.0)  # the cell's real mean now
    assert budget.admit(jobs[3])  # 0.05 spent + 0.6 running + 0.05 <= 1.0


def sweep_jobs_stub(count: int) -> list:
    from traitors.episode.spec import validate_spec
    from traitors.sweep.jobs import Job

    spec = validate_spec({"name": "b", "scenario": "the_traitors"})
    return [Job(spec, seed, f"e{seed}") for seed in range(count)]


def test_a_resume_brings_the_journal_to_agree_with_the_manifests(tmp_path: Path) -> None:
    """As after kill -9 of a Ray driver: episodes its actors finished after the driver died
    are complete on disk (loose or, once compacted, packed), yet the journal last said
    running or interrupted. The resume runs none of them again and records them complete."""
    from traitors.store.shards import compact, shard_index

    body = "set: {agents.default.policy: heuristic, rules.n_traitors: 1}\nepisodes: 8\n"
    jobs = sweep_jobs(write_sweep(tmp_path, body))
    out = tmp_path / "out"
    first = run_sweep(jobs[:4], out, LocalExecutor(4), {"name": "t"}, quiet())
    assert compact(out).packed == 4
    second = run_sweep(jobs, out, LocalExecutor(4), {"name": "t"}, quiet())
    assert [r.status for r in first + second[4:]] == ["complete"] * 8
    winners = {r.episode_id: r.outcome for r in first + second[4:]}
    assert None not in winners.values()
    packed, loose = [j.episode_id for j in jobs[:4]], [j.episode_id for j in jobs[4:]]
    assert set(shard_index(out)) == set(packed) and all((out / eid).is_dir() for eid in loose)
    # the crash: the journal's last word on two packed and two loose episodes
    cut = [packed[0], packed[1], loose[0], loose[1]]
    with open(out / JOURNAL, "a") as journal:
        for eid, status in zip(cut, ["running", "interrupted"] * 2, strict=True):
            journal.write(Entry(status, 1).line(eid))
    before = {eid: (out / eid / MANIFEST).stat().st_mtime_ns for eid in loose}

    resumed = run_sweep(jobs, out, LocalExecutor(4), {"name": "t"}, quiet())
    assert [r.status for r in resumed] == ["skipped"] * 8
    assert {r.episode_id: r.outcome for r in resumed} == winners
    assert {eid: (out / eid / MANIFEST).stat().st_mtime_ns for eid in loose} == before
    assert not any((out / eid).exists() for eid in packed)  # nothing played again
    entries = read_journal(out)
    assert {eid: entries[eid].status for eid in winners} == dict.fromkeys(winners, "complete")
    assert {eid: entries[eid].outcome for eid in winners} == winners
    summary = json.loads((out / SWEEP_FILE).read_text())
    assert summary["counts"] == {"complete": 8}
