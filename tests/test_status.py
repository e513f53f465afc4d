"""Honest episode status: failed calls and defaulted actions make an episode ``degraded``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import litellm
import pytest
from rich.console import Console

from traitors.cli import main
from traitors.episode.spec import episode_id, load_spec
from traitors.llm.fake import FakeCall, register_fake_model, schema_filler
from traitors.llm.gateway import Gateway
from traitors.store.log import MANIFEST, is_complete
from traitors.sweep.driver import run_sweep
from traitors.sweep.episodes import run_episodes
from traitors.sweep.jobs import Job
from traitors.sweep.local import LocalExecutor
from traitors.sweep.progress import SweepProgress

SMALL = ["rules.n_players=5", "rules.n_traitors=1", "rules.max_rounds=2"]


@pytest.fixture(autouse=True)
def fast_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    gateway = Gateway(backoff=0.001, max_backoff=0.001, max_attempts=2)
    monkeypatch.setattr("traitors.sweep.services._gateway", gateway)


def down(call: FakeCall) -> str:
    raise litellm.ServiceUnavailableError("down", llm_provider="fake", model=call.model)


def llm_spec(traitors_yaml: Path, model: str, *extra: str):
    settings = ["agents.default.policy=llm", f"agents.default.model={model}", *SMALL, *extra]
    return load_spec(traitors_yaml, settings)


def test_failed_calls_make_a_degraded_episode_with_counts_per_seat(traitors_yaml, tmp_path):
    model = register_fake_model("status-down", down)
    (summary,) = run_episodes(llm_spec(traitors_yaml, model), [1], tmp_path)
    manifest = summary.manifest
    assert manifest.status == "degraded" and not manifest.played
    assert "model calls failed" in (manifest.status_reason or "")
    assert not is_complete(summary.dir)
    total = manifest.health_total
    assert manifest.failed_kinds == {"transient": total.failed_calls}  # a 503, retried
    assert f"(limit 0): transient {total.failed_calls};" in (manifest.status_reason or "")
    assert total.calls == total.failed_calls > 0 and total.defaulted == total.decisions > 0
    assert sum(h.calls for h in manifest.health.values()) == total.calls
    assert set(manifest.health) == set(manifest.players)
    on_disk = json.loads((summary.dir / MANIFEST).read_text())
    assert on_disk["status"] == "degraded" and on_disk["health_total"]["failed_calls"] > 0


def test_limits_are_a_spec_field(traitors_yaml, tmp_path) -> None:
    model = register_fake_model("status-down-tolerated", down)
    lenient = ["health.max_failed_calls=100000", "health.max_defaulted_share=1.0"]
    (summary,) = run_episodes(llm_spec(traitors_yaml, model, *lenient), [1], tmp_path)
    assert summary.manifest.status == "complete" and summary.manifest.health_total.failed_calls


def test_a_repaired_reply_counts_but_does_not_degrade(traitors_yaml, tmp_path) -> None:
    fill = schema_filler("repair")

    def sloppy(call: FakeCall) -> str:
        repairing = "was not accepted" in call.prompt
        return fill(call) if repairing or "vote" not in call.prompt.lower() else "no idea"

    model = register_fake_model("status-sloppy", sloppy)
    (summary,) = run_episodes(llm_spec(traitors_yaml, model), [2], tmp_path)
    total = summary.manifest.health_total
    assert total.repaired > 0 and total.defaulted == 0 and summary.manifest.status == "complete"


def test_run_says_degraded_and_exits_non_zero(traitors_yaml, tmp_path, capsys) -> None:
    model = register_fake_model("status-cli-down", down)
    args = ["run", str(traitors_yaml), "--agents", "llm", "--model", model, "--no-events"]
    args += ["--out", str(tmp_path)] + [item for s in SMALL for item in ("--set", s)]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "degraded" in out and "not played as specified" in out


def test_a_sweep_records_degraded_as_failed_and_retries_it(traitors_yaml, tmp_path) -> None:
    outage = {"on": True}
    fill = schema_filler("flaky")

    def flaky(call: FakeCall) -> str:
        if outage["on"]:
            raise litellm.ServiceUnavailableError("down", llm_provider="fake", model=call.model)
        return fill(call)

    spec = llm_spec(traitors_yaml, register_fake_model("status-flaky", flaky))
    jobs = [Job(spec, seed, episode_id(spec, seed)) for seed in (1, 2)]
    quiet = SweepProgress(0, Console(file=open(os.devnull, "w")))  # noqa: SIM115
    results = run_sweep(jobs, tmp_path, LocalExecutor(2), {"name": "t"}, quiet)
    assert [r.status for r in results] == ["failed", "failed"]
    assert all("degraded" in (r.error or "") for r in results)
    outage["on"] = False
    again = run_sweep(jobs, tmp_path, LocalExecutor(2), {"name": "t"}, quiet, retries=1)
    assert [r.status for r in again] == ["complete", "complete"]
    assert all(is_complete(tmp_path / j.episode_id) for j in jobs)


def test_an_episode_stops_at_the_first_breach_and_replays(traitors_yaml, tmp_path):
    model = register_fake_model("status-down-stop", down)
    (summary,) = run_episodes(llm_spec(traitors_yaml, model), [2], tmp_path / "stop")
    manifest = summary.manifest
    assert manifest.status == "degraded" and manifest.outcome is not None
    assert manifest.outcome.winner is None and manifest.outcome.truncated
    assert manifest.outcome.reason.startswith("stopped, cannot count: 1 of 1 model calls failed")
    assert manifest.health_total.calls == 1  # no repair turn, no further seat asked
    last = json.loads((summary.dir / "events.jsonl").read_text().splitlines()[-1])
    assert last["kind"] == "game_over" and last["reason"] == manifest.outcome.reason
    assert main(["replay", str(summary.dir)]) == 0

    (played,) = run_episodes(
        llm_spec(traitors_yaml, model, "health.play_on=true"), [2], tmp_path / "on"
    )
    assert played.manifest.status == "degraded"
    assert played.manifest.health_total.calls > 10 * manifest.health_total.calls
    assert not played.manifest.outcome.reason.startswith("stopped")
    assert played.episode_id != summary.episode_id


def test_play_on_left_at_its_default_keeps_episode_ids() -> None:
    root = Path(__file__).resolve().parent
    recorded = json.loads((root / "golden" / "logs.json").read_text())["the_traitors-heuristic"]
    overrides = ["agents.default.policy=heuristic"]
    spec = load_spec(root.parent / "scenarios" / "the_traitors.yaml", overrides)
    assert episode_id(spec, 0) == recorded["0"]["episode"]  # the id from before play_on
    played_on = load_spec(
        root.parent / "scenarios" / "the_traitors.yaml", [*overrides, "health.play_on=true"]
    )
    assert episode_id(played_on, 0) != episode_id(spec, 0)


def test_agent_fields_left_at_their_defaults_keep_episode_ids(traitors_yaml) -> None:
    llm = ["agents.default.policy=llm", "agents.default.model=openai/o3-mini"]
    layers = [*llm, "agents.Alice.policy=llm", "agents.Bob.policy=llm"]
    spec = load_spec(traitors_yaml, layers)
    unset = [
        "agents.default.reasoning_effort=",
        "agents.Alice.thinking_budget=",
        "agents.Bob.api_base=",
    ]
    assert episode_id(load_spec(traitors_yaml, [*layers, *unset]), 0) == episode_id(spec, 0)
    body = json.dumps(spec.model_dump(mode="json"))
    assert '"reasoning_effort": null' in body  # in the spec, left out of the id only
    for setting in ("reasoning_effort=low", "api_base=http://127.0.0.1:9/v1"):
        changed = load_spec(traitors_yaml, [*layers, f"agents.Alice.{setting}"])
        assert episode_id(changed, 0) != episode_id(spec, 0), setting
