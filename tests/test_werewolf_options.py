"""Werewolf's rule options for Kaggle Game Arena's configs: orders, sequential votes, tie rules,
the doctor's limits, what the seer learns and what exiles and deaths reveal."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from agents.scripted import ActiveRandomPolicy, RandomPolicy
from scenarios.common import talk, vote_request
from scenarios.werewolf import (
    SaveEvent,
    TeamRevealEvent,
    Werewolf,
    WerewolfConfig,
    WerewolfState,
    seat_order,
)
from traitors.episode.conformance import check_scenario
from traitors.episode.spec import episode_id, load_spec, validate_spec
from traitors.game.actions import Pass, Speak, Vote
from traitors.game.events import (
    PUBLIC,
    Channel,
    EliminationEvent,
    Private,
    RevealEvent,
    SpeakEvent,
    VoteEvent,
    VoteResultEvent,
)

ROOT = Path(__file__).resolve().parents[1]
SEATS = ("A", "B", "C", "D", "E", "F", "G", "H")
ROLES = {"A": "werewolf", "B": "werewolf", "C": "seer", "D": "doctor"}
PRESETS = ("werewolf_kaggle_standard.yaml", "werewolf_kaggle_balanced.yaml")


def game(**options: object) -> tuple[Werewolf, WerewolfState]:
    """A table with A, B werewolves, C seer, D doctor, at its first night."""
    options = {"werewolf_talk": False, "debate_turns": 0} | options
    rules = Werewolf(WerewolfConfig(**options))  # type: ignore[arg-type]
    state = rules.initial_state(SEATS, random.Random(0))
    roles = {p: ROLES.get(p, "villager") for p in SEATS}
    state = replace(state, roles=roles, channels={"werewolves": frozenset({"A", "B"})})
    state, _ = rules.apply(state, {})
    return rules, state


def night(rules, state, kill=("E", "E"), protect="F", investigate="A"):
    """Play a night: the wolves' votes (one by one when sequential), the doctor, the seer."""
    events = []
    if state.phase == "wolf_vote":
        for target in kill:
            wolf = next(iter(rules.plan(state).requests))
            state, more = rules.apply(state, {wolf: Vote(target=target)})
            events += more
        actions = {}
    else:
        actions = {"A": Vote(target=kill[0]), "B": Vote(target=kill[1])}
    actions |= {"C": Vote(target=investigate), "D": Vote(target=protect)}
    state, more = rules.apply(state, actions)
    return state, events + more


def sequential_vote(rules, state, choices):
    """Play a sequential exile vote: each voter in turn votes ``choices[voter]``; the order
    and each voter's prompt."""
    order, prompts, events = [], [], []
    while state.phase == "exile_vote":
        ((voter, request),) = rules.plan(state).requests.items()
        order.append(voter)
        prompts.append(request.prompt)
        state, more = rules.apply(state, {voter: Vote(target=choices[voter])})
        events += more
    return state, events, order, prompts


def test_seat_order_fixed_rotate_and_random_pass_over_dead_seats() -> None:
    _, state = game()
    state = replace(state, alive=("B", "C", "E", "F", "G", "H"))
    order, after = seat_order(state, state.alive, "fixed", "x")
    assert order == ("B", "C", "E", "F", "G", "H") and after == state
    order, state = seat_order(state, state.alive, "rotate", "x")
    assert order[0] == "B" and state.cursors["x"] == 2
    order, state = seat_order(state, state.alive, "rotate", "x")
    assert order == ("C", "E", "F", "G", "H", "B")
    state = replace(state, cursors={"x": 3})  # D is dead: E is next
    assert seat_order(state, state.alive, "rotate", "x")[0][0] == "E"
    firsts = {
        seat_order(replace(state, round=r), state.alive, "random", "x")[0][0] for r in range(60)
    }
    assert firsts == set(state.alive)
    again = seat_order(replace(state, round=7), state.alive, "random", "x")[0]
    assert again == seat_order(replace(state, round=7), state.alive, "random", "x")[0]


def test_sequential_exile_vote_shows_the_votes_before_and_rotates_its_first_voter() -> None:
    rules, state = game(voting="sequential", first_voter="rotate", exile_rule="plurality")
    state, _ = night(rules, state, kill=("E", "E"), protect="F")
    assert state.phase == "exile_vote"
    choices = {p: "A" for p in state.alive} | {"A": "C"}
    state, events, order, prompts = sequential_vote(rules, state, choices)
    assert order == ["A", "B", "C", "D", "F", "G", "H"]
    assert prompts[0].endswith("No votes yet.") and prompts[1].endswith("Votes so far: C 1.")
    assert [e.actor for e in events if isinstance(e, VoteEvent)] == order
    assert all(e.visibility == PUBLIC for e in events if isinstance(e, VoteEvent))
    result = next(e for e in events if isinstance(e, VoteResultEvent))
    assert result.tally == {"A": 6, "C": 1} and result.decided == "A"
    state, _ = night(rules, state, kill=("F", "F"), protect="C")  # B alone votes
    _, _, order, _ = sequential_vote(rules, state, {p: "C" for p in state.alive} | {"C": "B"})
    assert order[0] == "B"  # the first voter moved one seat on


@pytest.mark.parametrize(("tie", "exiled"), [("nobody", False), ("random", True)])
def test_a_plurality_tie_exiles_nobody_or_a_random_leader(tie: str, exiled: bool) -> None:
    rules, state = game(exile_rule="plurality", exile_tie=tie)
    state, _ = night(rules, state)
    split = {"A": "C", "B": "C", "C": "A", "D": "A", "F": "G", "G": "H", "H": "F"}
    after, events = rules.apply(state, {p: Vote(target=t) for p, t in split.items()})
    result = next(e for e in events if isinstance(e, VoteResultEvent))
    assert result.tied == ("A", "C") and result.random_pick is exiled
    assert (result.decided in ("A", "C")) is exiled
    assert len(after.alive) == len(state.alive) - exiled
    picks = set()
    for seed in range(30):
        seeded = replace(state, seed=seed)
        _, events = rules.apply(seeded, {p: Vote(target=t) for p, t in split.items()})
        picks.add(next(e for e in events if isinstance(e, VoteResultEvent)).decided)
    assert picks == ({"A", "C"} if exiled else {None})


def test_majority_rule_refuses_a_random_tie_break() -> None:
    with pytest.raises(ValueError, match="plurality"):
        WerewolfConfig(exile_rule="majority", exile_tie="random")


@pytest.mark.parametrize("voting", ["simultaneous", "sequential"])
def test_a_split_wolf_vote_attacks_nobody_when_the_kill_tie_is_nobody(voting: str) -> None:
    rules, state = game(kill_tie="nobody", wolf_voting=voting)
    assert state.phase == ("night" if voting == "simultaneous" else "wolf_vote")
    after, events = night(rules, state, kill=("E", "F"), protect="G")
    result = next(e for e in events if isinstance(e, VoteResultEvent))
    assert result.decided is None and result.tied == ("E", "F") and not result.random_pick
    assert after.alive == state.alive
    wolf_votes = [e for e in events if isinstance(e, VoteEvent) and e.purpose == "kill"]
    assert all(e.visibility == Channel(name="werewolves") for e in wolf_votes)
    rules, state = game(kill_tie="random", wolf_voting=voting)
    after, events = night(rules, state, kill=("E", "F"), protect="G")
    assert len(after.alive) == len(state.alive) - 1


def test_sequential_wolves_vote_one_by_one_seeing_each_other() -> None:
    rules, state = game(wolf_voting="sequential", first_wolf="fixed")
    ((first, request),) = rules.plan(state).requests.items()
    assert first == "A" and request.prompt.endswith("No votes yet.")
    assert set(request.targets) == set(SEATS) - {"A", "B"}
    state, _ = rules.apply(state, {"A": Vote(target="E")})
    ((second, request),) = rules.plan(state).requests.items()
    assert second == "B" and request.prompt.endswith("Votes so far: E 1.")
    state, _ = rules.apply(state, {"B": Vote(target="E")})
    assert state.phase == "night" and set(rules.plan(state).requests) == {"C", "D"}


def test_the_doctor_may_not_protect_themself_nor_the_same_player_twice_running() -> None:
    rules, state = game(doctor_self_protect=False, doctor_repeat=False)
    targets = rules.plan(state).requests["D"].targets
    assert "D" not in targets and "F" in targets
    state, _ = night(rules, state, kill=("E", "E"), protect="F")
    state, _ = rules.apply(state, {p: Vote(target="C" if p != "C" else "A") for p in state.alive})
    assert state.phase == "night"
    targets = rules.plan(state).requests["D"].targets
    assert "F" not in targets and "D" not in targets and "G" in targets
    state, _ = night(rules, state, kill=("G", "G"), protect="G")
    state, _ = rules.apply(state, {p: Vote(target="B" if p != "B" else "A") for p in state.alive})
    assert "F" in rules.plan(state).requests["D"].targets  # barred one night only


def test_the_doctor_learns_of_a_save_privately_when_the_rules_say_so() -> None:
    for learns in (True, False):
        rules, state = game(doctor_learns_save=learns)
        _, events = night(rules, state, kill=("E", "E"), protect="E")
        saves = [e for e in events if isinstance(e, SaveEvent)]
        assert [(e.target, e.visibility) for e in saves] == (
            [("E", Private(agent="D"))] if learns else []
        )
    rules, state = game(doctor_learns_save=True)
    _, events = night(rules, state, kill=("E", "E"), protect="F")
    assert not [e for e in events if isinstance(e, SaveEvent)]


def test_the_seer_learns_only_the_team_when_the_rules_say_so() -> None:
    rules, state = game(seer_learns="team")
    _, events = night(rules, state, investigate="B")
    assert not [e for e in events if isinstance(e, RevealEvent)]
    shown = [e for e in events if isinstance(e, TeamRevealEvent)]
    assert [(e.player, e.team, e.visibility) for e in shown] == [
        ("B", "werewolves", Private(agent="C"))
    ]
    assert "team" in rules.plan(game(seer_learns="team")[1]).requests["C"].prompt


@pytest.mark.parametrize("level", ["nothing", "team", "role"])
def test_what_a_death_and_an_exile_reveal(level: str) -> None:
    rules, state = game(death_reveals=level, exile_reveals=level, exile_rule="plurality")
    state, events = night(rules, state, kill=("E", "E"), protect="F")
    public = [e for e in events if e.visibility == PUBLIC and e.phase == "dawn"]
    assert isinstance(public[0], EliminationEvent) and public[0].target == "E"
    shown = {"nothing": [], "team": [("E", "villagers")], "role": [("E", "villager")]}[level]
    assert [(e.player, getattr(e, "team", None) or e.role) for e in public[1:]] == shown
    votes = {p: Vote(target="A" if p != "A" else "C") for p in state.alive}
    _, events = rules.apply(state, votes)
    after_exile = events[
        next(i for i, e in enumerate(events) if isinstance(e, EliminationEvent)) + 1 :
    ]
    reveals = [e for e in after_exile if isinstance(e, RevealEvent | TeamRevealEvent)]
    expected = {"nothing": [], "team": [("A", "werewolves")], "role": [("A", "werewolf")]}[level]
    assert [(e.player, getattr(e, "team", None) or e.role) for e in reveals] == expected
    assert all(e.visibility == PUBLIC for e in reveals)


def test_round_robin_discussion_gives_every_living_player_its_turns_in_seat_order() -> None:
    rules, state = game(discussion="round_robin", discussion_rounds=2, first_speaker="fixed")
    state, _ = night(rules, state, kill=("E", "E"), protect="F")
    assert state.phase == "debate"
    speakers = []
    while state.phase == "debate":
        (speaker,) = rules.plan(state).requests
        speakers.append(speaker)
        state, events = rules.apply(state, {speaker: Speak(text=f"{speaker} here")})
        assert [e.actor for e in events if isinstance(e, SpeakEvent)] == [speaker]
    alive = ["A", "B", "C", "D", "F", "G", "H"]
    assert speakers == alive * 2 and state.phase == "exile_vote"


def test_legacy_reveal_on_exile_still_reads_and_old_episode_ids_hold() -> None:
    assert WerewolfConfig(reveal_on_exile=True).exile_reveals == "role"  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="not both"):
        WerewolfConfig(reveal_on_exile=True, exile_reveals="team")  # type: ignore[call-arg]
    old = validate_spec({"name": "ww", "scenario": "werewolf", "rules": {"reveal_on_exile": True}})
    new = validate_spec({"name": "ww", "scenario": "werewolf", "rules": {"exile_reveals": "role"}})
    assert episode_id(old, 0) == episode_id(new, 0)
    team = validate_spec({"name": "ww", "scenario": "werewolf", "rules": {"exile_reveals": "team"}})
    seq = validate_spec({"name": "ww", "scenario": "werewolf", "rules": {"voting": "sequential"}})
    assert len({episode_id(x, 0) for x in (old, team, seq)}) == 3


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("policy", ["random_active", "heuristic"])
@pytest.mark.slow
def test_the_kaggle_presets_pass_the_conformance_check(preset: str, policy: str) -> None:
    spec = load_spec(ROOT / "scenarios" / preset)
    report = check_scenario(spec, range(80), policy)
    assert report.problems == [] and report.episodes == 80


def test_the_active_random_policy_always_votes_or_speaks_where_random_may_pass() -> None:
    vote = vote_request("A", "exile_vote", "Vote.", ("B", "C", "D"))
    speech = talk("A", "debate", "Speak.", 200, ("B", "C"))
    active, plain = ActiveRandomPolicy("A", 1), RandomPolicy("A", 1)
    votes = [active.choose(vote) for _ in range(200)]
    assert all(isinstance(v, Vote) for v in votes)
    assert {v.target for v in votes if isinstance(v, Vote)} == {"B", "C", "D"}
    assert all(isinstance(active.choose(speech), Speak) for _ in range(50))
    assert any(isinstance(plain.choose(vote), Pass) for _ in range(50))
