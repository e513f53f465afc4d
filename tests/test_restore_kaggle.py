"""Imported Kaggle Werewolf games restore in our engine under their rules, event by event,
and fork: a real game goes on with our agents after one message is removed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scenarios.werewolf import Werewolf, WerewolfConfig, highest_bidder, seat_order
from scenarios.werewolf_kaggle import IMPORTER
from traitors.cli import main
from traitors.episode.core import EpisodeCore, RestoreError
from traitors.episode.spec import ScenarioSpec, validate_spec
from traitors.game.events import ActEvent, Event, SpeakEvent
from traitors.game.seeds import derive_rng
from traitors.store.imported import ImportedEpisode
from traitors.store.log import read_episode
from traitors.sweep.replay import replay_episode

FIXTURES = Path(__file__).parent / "fixtures" / "kaggle_werewolf"
COMPLETE = sorted(p.stem for p in FIXTURES.glob("*.json") if p.stem != "agent_error")


def read(name: str) -> ImportedEpisode:
    with open(FIXTURES / f"{name}.json", "rb") as f:
        return IMPORTER.read(f, f"{name}.json")


def restore(spec: ScenarioSpec, events: list[Event], until: int | None = None) -> EpisodeCore:
    rules = spec.build_rules()
    return EpisodeCore.restore(rules, spec.seats(rules.seat_count()), 0, events, until)


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("imported")
    assert main(["import", "kaggle-werewolf", str(FIXTURES), "--out", str(out)]) == 0
    return out


def episode_dir(run: Path, source: str) -> Path:
    (found,) = [
        d
        for d in run.iterdir()
        if d.is_dir()  # the import's journal (import.jsonl) is beside the episodes
        and f"{source}.json" in json.loads((d / "manifest.json").read_text())["source"]["file"]
    ]
    return found


@pytest.mark.parametrize("name", COMPLETE)
def test_every_complete_fixture_restores_event_by_event(name: str) -> None:
    episode = read(name)
    core = restore(validate_spec(episode.manifest.spec), list(episode.events))
    assert core.over and len(core.events) == len(episode.events)
    assert core.events == list(episode.events)
    assert core.outcome is not None and core.outcome.winner == episode.manifest.outcome.winner


@pytest.mark.parametrize("name", ["standard_randomized", "balanced_no_exile", "bidding"])
def test_our_engine_replaying_the_decisions_writes_the_imported_log(
    imported: Path, name: str
) -> None:
    """Side by side: our engine, every seat played from the log, against events.jsonl."""
    result = replay_episode(episode_dir(imported, name))
    assert result.ok, result.divergence
    assert result.events == len(read_episode(episode_dir(imported, name)).events)


def test_a_game_ended_by_an_agent_error_restores_up_to_the_error() -> None:
    episode = read("agent_error")
    events = list(episode.events)
    spec = validate_spec(episode.manifest.spec)
    last = max(e.seq for e in events if isinstance(e, ActEvent))
    core = restore(spec, events, last)
    assert not core.over and core.events == events[: len(core.events)]
    with pytest.raises(RestoreError, match="game_over"):
        restore(spec, events)  # our engine plays on where Kaggle's stopped


def test_the_spec_carries_the_deal_kaggles_draws_and_who_played() -> None:
    episode = read("standard_randomized")
    spec, manifest = episode.manifest.spec, episode.manifest
    assert spec["rules"]["deal"] == [manifest.roles[p] for p in manifest.players]
    assert spec["agents"]["default"]["policy"] == "imported"
    order = [
        json.loads(entry["json_str"])
        for step in json.loads((FIXTURES / "standard_randomized.json").read_text())["info"][
            "MODERATOR_OBSERVATION"
        ]
        for entry in step
    ]
    talks = [
        r["data"]["chat_order_of_player_ids"]
        for r in order
        if r["event_name"] == "discussion_order"
    ]
    assert spec["rules"]["draws"]["order:debate:1"] == talks[0][0]
    assert episode.manifest.name == "werewolf-kaggle-standard"  # the draws keep the preset


def test_without_kaggles_draws_the_game_does_not_restore() -> None:
    episode = read("standard_randomized")
    raw: dict[str, Any] = dict(episode.manifest.spec)
    raw["rules"] = {**raw["rules"], "draws": {}}
    with pytest.raises(RestoreError, match=r"event 10 .* not a recorded decision of Jamie"):
        restore(validate_spec(raw), list(episode.events))  # our seeded first wolf is not Alex


def test_a_draw_is_taken_only_while_it_is_one_of_the_options() -> None:
    config = WerewolfConfig(draws={"order:debate:1": "C", "pick:exile:1": "B", "bid:1:0": "B"})
    state = Werewolf(config).initial_state(tuple("ABCDEFGH"), derive_rng(0, "rules"))
    state = state.__class__(**{**state.__dict__, "round": 1})
    order = seat_order(state, state.alive, "random", "debate", "C")[0]
    assert order == ("C", "D", "E", "F", "G", "H", "A", "B")
    assert config.drawn(("A", "B"), "pick", "exile", 1) == "B"
    assert config.drawn(("A", "D"), "pick", "exile", 1) is None  # B is not tied: seeded
    assert highest_bidder({"A": 3, "B": 3}, 0, 1, 0, drawn="B") == "B"
    assert highest_bidder({"A": 3, "B": 1}, 0, 1, 0, drawn="B") == "A"


def test_a_deal_seats_the_roles_given_and_must_be_the_tables() -> None:
    deal = (
        "villager",
        "werewolf",
        "seer",
        "villager",
        "doctor",
        "werewolf",
        "villager",
        "villager",
    )
    rules = Werewolf(WerewolfConfig(deal=deal))
    players = tuple("ABCDEFGH")
    state = rules.initial_state(players, derive_rng(5, "rules"))
    assert [state.roles[p] for p in players] == list(deal)
    with pytest.raises(ValueError, match="deal"):
        WerewolfConfig(deal=("werewolf",) * 8)


def test_a_fork_drops_a_real_message_and_plays_on_with_our_agents(
    imported: Path, tmp_path: Path
) -> None:
    parent = episode_dir(imported, "standard_randomized")
    log = read_episode(parent)
    target = next(e for e in log.events if isinstance(e, SpeakEvent))
    out = tmp_path / "forks"
    argv = ["fork", str(parent), "--drop", str(target.seq), "--samples", "2", "--out", str(out)]
    assert main([*argv, "--set", "agents.default.policy=heuristic"]) == 0
    forks = [read_episode(d) for d in out.iterdir() if d.is_dir()]
    assert len(forks) == 4 and {f.manifest.status for f in forks} == {"complete"}
    for fork in forks:
        record = fork.manifest.fork
        assert record is not None and record.parent == log.manifest.episode_id
        assert fork.events[: record.at] == log.events[: record.at]  # the real game's prefix
        first = next(e for e in fork.events[record.at :] if isinstance(e, SpeakEvent))
        kept = (first.actor, first.text) == (target.actor, target.text)
        assert kept == (record.arm == "control")
        assert replay_episode(fork.dir).ok  # a fork replays from its own files


def test_an_imported_seat_cannot_be_asked_and_a_degraded_game_is_not_forked(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from traitors.episode.recorded import replayable

    assert not replayable({"policy": "imported"})
    assert not replayable({"policy": "kaggle-random"})  # Kaggle's agents are not installed here
    assert replayable({"policy": "heuristic"})
    degraded = episode_dir(imported, "agent_error")
    assert main(["fork", str(degraded), "--at", "40"]) == 2
    assert "not a played game" in capsys.readouterr().err
