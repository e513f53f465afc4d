"""Counterfactual forks: exact prefixes, controls that reproduce the parent, effects found."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import shutil
from pathlib import Path

import pytest

from analysis.causal import influence_table
from traitors.cli import main
from traitors.episode.fork import ForkError, fork_point, fork_records, intervene, load_parent
from traitors.episode.spec import load_spec
from traitors.llm.fake import FakeCall, fill_schema, register_fake_model, schema_filler
from traitors.store.log import CALLS, EVENTS, load_manifest, read_episode
from traitors.sweep.episodes import run_episodes, run_one
from traitors.sweep.replay import replay_episode

ROOT = Path(__file__).resolve().parent.parent
_names = itertools.count()
ACCUSER, ACCUSED = "Alice", "Dave"


def fake(fn) -> str:
    return register_fake_model(f"fork{next(_names)}", fn)


def schema_of(call: FakeCall) -> dict | None:
    return (call.params.get("response_format") or {}).get("json_schema", {}).get("schema")


def last_accused(call: FakeCall) -> str | None:
    """The last player the prompt says was accused."""
    found = re.findall(r"accuses (\w+)", call.messages[-1]["content"])
    return found[-1] if found else None


def follower(call: FakeCall) -> str:
    """Alice accuses Dave in her first speech; everyone votes for whoever was last accused
    (at random, seeded by the call, when no one was); the rest is random and valid."""
    schema = schema_of(call)
    seed = call.params.get("seed")
    rng = random.Random(f"{seed}|{call.prompt}")
    if schema is None:
        return "notes"
    data = fill_schema(schema, rng)
    props = schema.get("properties", {})
    me = re.search(r"You are (\w+)\.", call.messages[0]["content"])
    speaker = me.group(1) if me else ""
    if "accuse" in props:
        said = "accuses" in call.messages[-1]["content"]
        legal = ACCUSED in props["accuse"].get("enum", [])
        accuse = ACCUSED if speaker == ACCUSER and legal and not said else "none"
        data.update(text="hello", accuse=accuse, defend="none")
        data.pop("claim_role", None)
    elif "vote" in props:
        options = [t for t in props["vote"].get("enum", []) if t != "none"]
        target = last_accused(call)
        data["vote"] = target if target in options else rng.choice(options)
    return json.dumps(data)


def spec_for(model: str, *extra: str):
    return load_spec(
        ROOT / "scenarios" / "the_traitors.yaml",
        [
            "rules.n_players=5",
            "rules.n_traitors=1",
            "rules.max_rounds=3",
            "rules.speaking_order=fixed",
            "rules.belief_probe=false",
            "agents.default.policy=llm",
            f"agents.default.model={model}",
            *extra,
        ],
    )


def parent_episode(tmp_path: Path, model: str, *extra: str, seed: int = 1) -> Path:
    summary = run_episodes(spec_for(model, *extra), [seed], tmp_path / "parent")[0]
    assert summary.manifest.status == "complete"
    return summary.dir


def fork(*argv: str) -> int:
    return main(["fork", *argv])


def episodes(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if (p / "manifest.json").is_file())


def first_message(directory: Path, actor: str) -> int:
    events = read_episode(directory).events
    return next(e.seq for e in events if e.kind == "speak" and e.actor == actor)


def test_prefix_is_byte_identical_and_served_without_model_calls(tmp_path) -> None:
    parent = parent_episode(tmp_path, fake(schema_filler()))
    target = first_message(parent, "Carol")
    out = tmp_path / "forks"
    assert fork(str(parent), "--drop", str(target), "--samples", "2", "--out", str(out)) == 0
    lines = (parent / EVENTS).read_text().splitlines()
    forks = episodes(out)
    assert len(forks) == 4
    for directory in forks:
        manifest = load_manifest(directory)
        record = manifest.fork
        assert record is not None and record.parent == load_manifest(parent).episode_id
        assert manifest.status == "complete"
        mine = (directory / EVENTS).read_text().splitlines()
        assert mine[: record.at] == lines[: record.at]
        # Every call before the fork point came from the recording, none was made again.
        assert record.prefix_calls > 0
        calls = [json.loads(x) for x in (directory / CALLS).read_text().splitlines()]
        parent_keys = {json.loads(x)["key"] for x in (parent / CALLS).read_text().splitlines()}
        assert {c["key"] for c in calls[: record.prefix_calls]} <= parent_keys
        assert manifest.usage["calls"] == len(calls) - record.prefix_calls
    treated = [d for d in forks if load_manifest(d).fork.arm == "treated"]
    for directory in treated:
        at = load_manifest(directory).fork.at
        after = read_episode(directory).events[at:]
        assert not [e for e in after[:3] if e.kind == "speak" and e.actor == "Carol"]


def test_a_forks_observers_see_every_event_and_no_call_reaches_the_model_before_its_point(
    tmp_path,
) -> None:
    """What benchmarks/fork.py counts with: observers given to run_one see a fork's restored
    prefix too, and the model itself is not called before the fork point."""
    seen: list[int] = []
    calls_at: list[int] = []  # the events recorded when each call reached the model
    fill = schema_filler()

    def counted(call: FakeCall) -> str:
        calls_at.append(len(seen))
        return fill(call)

    parent = parent_episode(tmp_path, fake(counted))
    assert len(calls_at) == load_manifest(parent).usage["calls"] > 0
    loaded = load_parent(str(parent))
    at, change = intervene(loaded, "drop", first_message(parent, "Carol"))
    (record,) = fork_records(loaded, at, change, 1, control=False)

    class Watch:
        def on_event(self, event, state) -> None:
            seen.append(event.seq)

        def on_decision(self, observation, request, action) -> None:
            pass

    calls_at.clear()
    seed = loaded.log.manifest.seed
    run = run_one(loaded.spec, seed, tmp_path / "forks", [Watch()], fork=record)
    summary = asyncio.run(run)
    assert seen == list(range(len(read_episode(summary.dir).events)))
    assert at > 0 and calls_at and min(calls_at) >= at
    assert len(calls_at) == summary.manifest.usage["calls"]


def test_a_fork_without_intervention_at_temperature_0_reproduces_the_parent(tmp_path) -> None:
    model = fake(schema_filler())
    parent = parent_episode(tmp_path, model, "agents.default.temperature=0")
    at = first_message(parent, "Bob") - 1
    out = tmp_path / "forks"
    assert fork(str(parent), "--at", str(at), "--samples", "2", "--out", str(out)) == 0
    want = (parent / EVENTS).read_bytes()
    forks = episodes(out)
    assert len(forks) == 2
    for directory in forks:
        assert (directory / EVENTS).read_bytes() == want
        assert load_manifest(directory).fork.seed != 0
        assert load_manifest(directory).usage["calls"] > 0  # the continuation was live


def test_continuations_differ_at_temperature_above_0(tmp_path) -> None:
    parent = parent_episode(tmp_path, fake(schema_filler()))
    at = first_message(parent, "Bob") - 1
    out = tmp_path / "forks"
    assert fork(str(parent), "--at", str(at), "--samples", "3", "--out", str(out)) == 0
    texts = {(d / EVENTS).read_bytes() for d in episodes(out)}
    assert len(texts) == 3


@pytest.mark.slow
def test_dropping_the_accusation_is_found_to_save_the_accused(tmp_path) -> None:
    parent = parent_episode(tmp_path, fake(follower))
    events = read_episode(parent).events
    accusation = next(e for e in events if e.kind == "speak" and e.actor == ACCUSER and e.claims)
    out = tmp_path / "forks"
    code = fork(str(parent), "--drop", str(accusation.seq), "--samples", "12", "--out", str(out))
    assert code == 0
    table = influence_table(out)
    row = table.row(0, named=True)
    assert row["target"] == accusation.seq and row["player"] == ACCUSED
    # With the accusation everyone votes Dave out; without it the votes scatter.
    assert row["effect"] < -0.4 and row["high"] < 0 and row["low"] >= -1
    assert row["n_treated"] == 12 and row["n_control"] == 12


def test_forks_replay_from_their_own_files_without_the_parent(tmp_path) -> None:
    parent = parent_episode(tmp_path, fake(schema_filler()))
    target = first_message(parent, "Erin")
    out = tmp_path / "forks"
    assert fork(str(parent), "--drop", str(target), "--samples", "1", "--out", str(out)) == 0
    load_parent.cache_clear()
    shutil.rmtree(parent)
    for directory in episodes(out):
        result = replay_episode(directory)
        assert result.ok, result.divergence


def test_swapping_a_seats_model_changes_only_the_treated_continuation(tmp_path) -> None:
    parent = parent_episode(tmp_path, fake(schema_filler()))
    other = fake(schema_filler("other"))
    at = first_message(parent, "Bob") - 1
    out = tmp_path / "forks"
    argv = [str(parent), "--at", str(at), "--set", f"agents.Bob.model={other}"]
    assert fork(*argv, "--samples", "1", "--out", str(out)) == 0
    for directory in episodes(out):
        record = load_manifest(directory).fork
        calls = [json.loads(x) for x in (directory / CALLS).read_text().splitlines()]
        live = calls[record.prefix_calls :]
        bob = {c["model"] for c in live if c["agent"] == "Bob"}
        assert bob == ({other} if record.arm == "treated" else {c["model"] for c in calls[:1]})


def test_forks_resume_and_skip_what_is_complete(tmp_path, capsys) -> None:
    parent = parent_episode(tmp_path, fake(schema_filler()))
    target = first_message(parent, "Bob")
    out = tmp_path / "forks"
    argv = [str(parent), "--drop", str(target), "--samples", "2", "--out", str(out)]
    assert fork(*argv) == 0
    first = {d.name: (d / EVENTS).read_bytes() for d in episodes(out)}
    capsys.readouterr()
    assert fork(*argv) == 0
    assert re.search(r"already complete \(skipped\)\s*│\s*4\s", capsys.readouterr().out)
    assert {d.name: (d / EVENTS).read_bytes() for d in episodes(out)} == first


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--drop", "0"], "not a message"),
        (["--at", "100000"], "the episode has events"),
        (["--replace", "x=hello"], "write SEQ=VALUE"),
        (["--claims", "{speech}=accuse"], "write KIND:NAME"),
        (["--claims", "{speech}=accuse:Nobody"], "not a legal answer"),
        (["--set", "rules.n_players=9", "--at", "{speech}"], "agents only"),
        ([], "give the fork point"),
    ],
)
def test_bad_forks_get_one_line(tmp_path, capsys, argv, message) -> None:
    parent = parent_episode(tmp_path, fake(schema_filler()))
    speech = first_message(parent, "Bob")
    argv = [a.replace("{speech}", str(speech)) for a in argv]
    assert fork(str(parent), *argv, "--out", str(tmp_path / "forks")) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_a_degraded_parent_is_refused(tmp_path, capsys) -> None:
    parent = parent_episode(tmp_path, fake(schema_filler()))
    manifest = json.loads((parent / "manifest.json").read_text())
    manifest["status"] = "degraded"
    (parent / "manifest.json").write_text(json.dumps(manifest))
    load_parent.cache_clear()
    assert fork(str(parent), "--at", "30") == 2
    assert "not a played game" in capsys.readouterr().err


def test_the_fork_point_moves_back_to_the_decision(tmp_path) -> None:
    parent = parent_episode(tmp_path, fake(schema_filler()))
    log = load_parent(str(parent))
    speech = first_message(parent, "Bob")
    at, change = intervene(log, "drop", speech)
    assert at < speech and fork_point(log, speech) == at
    assert log.events[at].kind in ("reasoning", "act") and log.events[at].actor == "Bob"
    assert change.applied == {"kind": "pass"} and change.original["kind"] == "speak"
    with pytest.raises(ForkError):
        intervene(log, "drop", at)


def test_dry_run_prints_the_expected_calls_per_arm(tmp_path, capsys) -> None:
    parent = parent_episode(tmp_path, fake(schema_filler()))
    speech = first_message(parent, "Bob")
    assert fork(str(parent), "--drop", str(speech), "--samples", "3", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "6 forks" in out and "arm=treated" in out and "arm=control" in out
    made = load_manifest(parent).usage["calls"]
    calls = [int(n) for n in re.findall(r"│\s+(\d+) calls", out)]
    assert calls and 0 < calls[0] < 6 * made


@pytest.mark.parametrize("scenario", ["werewolf", "avalon", "principal_agent"])
def test_every_scenario_forks_with_scripted_agents(tmp_path, scenario) -> None:
    path = ROOT / "scenarios" / f"{scenario}.yaml"
    # every agent layer, not only the default: the shopping task's assistant layer names the
    # embedded model (minutes of a local model, in a test of scripted forks)
    layers = load_spec(path).agents
    spec = load_spec(path, [f"agents.{layer}.policy=heuristic" for layer in layers])
    parent = run_episodes(spec, [4], tmp_path / "parent")[0].dir
    events = read_episode(parent).events
    decisions = [e.seq for e in events if e.kind == "act"]
    at = fork_point(load_parent(str(parent)), decisions[len(decisions) // 2])
    out = tmp_path / "forks"
    assert fork(str(parent), "--at", str(at), "--samples", "2", "--out", str(out)) == 0
    lines = (parent / EVENTS).read_text().splitlines()
    for directory in episodes(out):
        assert (directory / EVENTS).read_text().splitlines()[:at] == lines[:at]
        assert replay_episode(directory).ok


@pytest.mark.slow
def test_influence_ranks_the_accusation_first(tmp_path, capsys) -> None:
    parent = parent_episode(tmp_path, fake(follower))
    events = read_episode(parent).events
    accusation = next(e for e in events if e.kind == "speak" and e.actor == ACCUSER and e.claims)
    out = tmp_path / "influence"
    assert main(["influence", str(parent), "--samples", "8", "--out", str(out)]) == 0
    shown = capsys.readouterr().out
    ranked = re.findall(r"│ (\d+)\s+│ (\w+) (\d+): (\w+)", shown)
    assert ranked[0][1:] == ("drop", str(accusation.seq), ACCUSER)
    speeches = [e for e in events if e.kind == "speak" and e.phase == "discussion"]
    assert len(ranked) == min(10, len(speeches))
    table = influence_table(out)
    assert table.height == len(speeches)
    assert table.row(0, named=True)["player"] == ACCUSED


def test_influence_dry_run_and_bad_phase(tmp_path, capsys) -> None:
    parent = parent_episode(tmp_path, fake(schema_filler()))
    assert main(["influence", str(parent), "--samples", "2", "--dry-run"]) == 0
    events = read_episode(parent).events
    speeches = [e for e in events if e.kind == "speak" and e.phase == "discussion"]
    assert f"{4 * len(speeches)} forks" in capsys.readouterr().out.replace("\n", " ")
    assert main(["influence", str(parent), "--phase", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no public message in that phase; phases with messages: discussion" in err
