"""The circuit breaker: a sweep starts no more episodes of a model after K degraded ones in
a row, finishes what runs, names the model and its last error, and exits 1."""

from __future__ import annotations

from pathlib import Path

import litellm
import pytest

from traitors.cli import main
from traitors.llm.fake import FakeCall, register_fake_model
from traitors.llm.gateway import Gateway
from traitors.store.journal import read_journal
from traitors.sweep.breaker import Breaker
from traitors.sweep.jobs import Job, JobResult
from traitors.sweep.spec import load_sweep

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def fast_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    gateway = Gateway(backoff=0.001, max_backoff=0.001, max_attempts=2)
    monkeypatch.setattr("traitors.sweep.services._gateway", gateway)


def refused(call: FakeCall) -> str:
    raise litellm.ServiceUnavailableError("key revoked", llm_provider="fake", model=call.model)


def write_sweep(tmp_path: Path, model: str) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"name: breaker\nbase: {ROOT / 'scenarios' / 'the_traitors.yaml'}\n"
        "set: {rules.n_players: 5, rules.n_traitors: 1, rules.max_rounds: 2}\n"
        "episodes: 6\n"
        f"design: {{models: ['{model}', heuristic]}}\n"
    )
    return path


def test_three_degraded_episodes_in_a_row_stop_the_model(tmp_path, capsys) -> None:
    model = register_fake_model("breaker-down", refused)
    path, out = write_sweep(tmp_path, model), tmp_path / "out"
    argv = ["sweep", str(path), "--out", str(out), "--concurrency", "1"]
    assert main(argv) == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if "circuit breaker" in line]
    assert len(lines) == 1
    assert model in lines[0] and "key revoked" in lines[0]
    assert f"traitors sweep {path} --out {out}" in lines[0]
    statuses = [entry.status for entry in read_journal(out).values()]
    assert statuses.count("failed") == 3  # every episode of the design seats the model
    assert "complete" not in statuses


def test_breaker_0_plays_every_episode(tmp_path, capsys) -> None:
    model = register_fake_model("breaker-off", refused)
    path, out = write_sweep(tmp_path, model), tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--breaker", "0"]) == 1
    assert "circuit breaker" not in capsys.readouterr().out
    assert [e.status for e in read_journal(out).values()].count("failed") == 6


def test_a_complete_episode_ends_the_run(tmp_path) -> None:
    model = register_fake_model("breaker-flaky", refused)
    _, episodes = load_sweep(write_sweep(tmp_path, model))
    jobs = [Job.of(e) for e in episodes]
    breaker = Breaker(2)
    for job, status in zip(jobs, ["failed", "complete", "failed"], strict=False):
        breaker.started(job)
        health = {"calls": 1} if status == "failed" else {}
        breaker.finished(JobResult(job.episode_id, status, "down", health=health))
    assert not breaker.tripped and breaker.wanted(jobs[3])
    breaker.started(jobs[3])
    breaker.finished(JobResult(jobs[3].episode_id, "failed", "down again", health={"calls": 1}))
    assert breaker.tripped == {model: "down again"} and not breaker.wanted(jobs[4])


def test_the_breaker_line_shows_control_characters_as_escapes() -> None:
    breaker = Breaker(1)
    breaker.tripped["fake/x"] = "down \x1b[31mred\x1b[0m"
    (line,) = breaker.lines("traitors sweep s.yaml --out o")
    assert "\x1b" not in line and "\\x1b[31mred" in line
