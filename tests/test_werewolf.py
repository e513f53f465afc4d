"""Rules of Werewolf (Werewolf Arena): bidding, doctor, seer, majority exile."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from scenarios.werewolf import (
    Bid,
    BidEvent,
    Werewolf,
    WerewolfConfig,
    WerewolfState,
    highest_bidder,
)
from traitors.episode.conformance import check_scenario
from traitors.episode.spec import validate_spec
from traitors.game.actions import Pass, Speak, Vote
from traitors.game.events import (
    EliminationEvent,
    Event,
    Private,
    RevealEvent,
    SpeakEvent,
    VoteResultEvent,
)

SEATS = ("A", "B", "C", "D", "E", "F", "G", "H")
ROLES = {"A": "werewolf", "B": "werewolf", "C": "seer", "D": "doctor"}


def eliminated(event: Event, cause: str) -> bool:
    """Whether ``event`` eliminated a player by ``cause`` (exile, kill)."""
    return isinstance(event, EliminationEvent) and event.cause == cause


def game(**options: object) -> tuple[Werewolf, WerewolfState]:
    rules = Werewolf(WerewolfConfig(werewolf_talk=False, **options))  # type: ignore[arg-type]
    state = rules.initial_state(SEATS, random.Random(0))
    roles = {p: ROLES.get(p, "villager") for p in SEATS}
    state = replace(state, roles=roles, channels={"werewolves": frozenset({"A", "B"})})
    state, _ = rules.apply(state, {})
    assert state.phase == "night"
    return rules, state


def night(rules, state, kill="E", protect="F", investigate="A"):
    actions = {"A": Vote(target=kill), "B": Vote(target=kill)}
    actions |= {"C": Vote(target=investigate), "D": Vote(target=protect)}
    return rules.apply(state, actions)


def test_night_kill_when_the_doctor_guards_someone_else() -> None:
    rules, state = game()
    step = rules.plan(state)
    assert step.simultaneous and set(step.requests) == {"A", "B", "C", "D"}
    assert "A" not in step.requests["A"].targets  # wolves never target wolves
    state, events = night(rules, state)
    assert [e.target for e in events if eliminated(e, "kill")] == ["E"]
    assert "E" not in state.alive and state.phase == "bid"


def test_doctor_save() -> None:
    rules, state = game()
    state, events = night(rules, state, kill="E", protect="E")
    assert not [e for e in events if eliminated(e, "kill")]
    assert "E" in state.alive


def test_seer_learns_a_role_privately() -> None:
    rules, state = game()
    _, events = night(rules, state, investigate="B")
    reveals = [e for e in events if isinstance(e, RevealEvent)]
    assert [(r.player, r.role) for r in reveals] == [("B", "werewolf")]
    assert reveals[0].visibility == Private(agent="C")


def test_bidding_order_and_seeded_ties() -> None:
    assert highest_bidder({"A": 1, "B": 4, "C": 2}, 0, 1, 0) == "B"
    tied = {highest_bidder({"A": 3, "B": 3, "C": 1}, seed, 1, 0) for seed in range(30)}
    assert tied == {"A", "B"}
    assert highest_bidder({"A": 3, "B": 3}, 5, 1, 0) == highest_bidder({"A": 3, "B": 3}, 5, 1, 0)
    rules, state = game(debate_turns=2)
    state, _ = night(rules, state)
    bids = {p: Bid(amount=1) for p in state.alive} | {"G": Bid(amount=4)}
    state, events = rules.apply(state, bids)
    assert state.phase == "debate" and state.speaker == "G"
    assert all(e.visibility == Private(agent=e.actor) for e in events if isinstance(e, BidEvent))
    assert list(rules.plan(state).requests) == ["G"]
    state, events = rules.apply(state, {"G": Speak(text="I saw it.")})
    assert [e.actor for e in events if isinstance(e, SpeakEvent)] == ["G"]
    assert state.phase == "bid"  # a second turn
    state, _ = rules.apply(state, {p: Bid(amount=0) for p in state.alive})
    state, _ = rules.apply(state, {state.speaker: Pass()})
    assert state.phase == "exile_vote"


def exile_votes(state, **ballots: str):
    return {p: Vote(target=ballots.get(p, "A" if p != "A" else "B")) for p in state.alive}


def test_exile_needs_more_than_half_of_the_votes() -> None:
    rules, state = game(debate_turns=0)
    state, _ = night(rules, state)
    assert state.phase == "exile_vote"
    # 7 alive: A gets 3, others split -> no majority, nobody exiled
    split = {"A": "C", "B": "C", "C": "A", "D": "A", "F": "A", "G": "D", "H": "F"}
    after, events = rules.apply(state, {p: Vote(target=t) for p, t in split.items()})
    result = next(e for e in events if isinstance(e, VoteResultEvent))
    assert result.decided is None and not [e for e in events if eliminated(e, "exile")]
    assert len(after.alive) == 7 and after.phase == "night" and after.round == 2
    majority = split | {"G": "A"}  # A gets 4 of 7
    after, events = rules.apply(state, {p: Vote(target=t) for p, t in majority.items()})
    assert [e.target for e in events if eliminated(e, "exile")] == ["A"]
    plurality = Werewolf(WerewolfConfig(exile_rule="plurality", debate_turns=0))
    after, events = plurality.apply(state, {p: Vote(target=t) for p, t in split.items()})
    assert [e.target for e in events if eliminated(e, "exile")] == ["A"]


def test_village_wins_when_the_wolves_are_gone_and_wolves_win_at_parity() -> None:
    rules, state = game(debate_turns=0, n_werewolves=1)
    state = replace(
        state, roles={**state.roles, "B": "villager"}, channels={"werewolves": frozenset({"A"})}
    )
    state, _ = night(rules, state)
    state, _ = rules.apply(state, {p: Vote(target="A" if p != "A" else "C") for p in state.alive})
    outcome = rules.outcome(state)
    assert outcome is not None and outcome.winner == "villagers"
    rules, state = game(debate_turns=0)
    state = replace(state, alive=("A", "B", "C", "E", "F"))
    state, _ = night(rules, state, kill="E", protect="C")
    outcome = rules.outcome(state)  # 2 wolves vs C, F
    assert outcome is not None and outcome.winner == "werewolves"


def test_config_rejects_impossible_tables() -> None:
    with pytest.raises(ValueError, match="fewer than half"):
        WerewolfConfig(n_players=4, n_werewolves=2)


@pytest.mark.parametrize("policy", ["random", "heuristic"])
@pytest.mark.slow
def test_conformance_over_300_seeds(policy: str) -> None:
    spec = validate_spec({"name": "ww", "scenario": "werewolf"})
    report = check_scenario(spec, range(300), policy)
    assert report.problems == [] and report.episodes == 300


@pytest.mark.slow
def test_the_optional_belief_probe_asks_everyone_privately_before_the_vote() -> None:
    rules = {"belief_probe": True, "debate_turns": 1}
    spec = validate_spec({"name": "ww", "scenario": "werewolf", "rules": rules})
    report = check_scenario(spec, range(60), "heuristic")
    assert report.problems == [] and report.episodes == 60
    rules_obj, state = game(belief_probe=True, debate_turns=0)
    state, events = night(rules_obj, state)
    assert state.phase == "belief_probe"
    step = rules_obj.plan(state)
    assert step.simultaneous and set(step.requests) == set(state.alive)
    state, events = rules_obj.apply(state, {p: r.default for p, r in step.requests.items()})
    beliefs = [e for e in events if e.kind == "belief"]
    assert len(beliefs) == len(step.requests) and state.phase == "exile_vote"
    assert all(e.visibility == Private(agent=e.actor) for e in beliefs)
