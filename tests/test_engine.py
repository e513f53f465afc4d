"""The episode loop: repair turns, defaults, private reasoning, simultaneity, seeds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from scenarios.speaking import fixed_order, random_order, rotating_order
from scenarios.the_traitors import WORDS, TraitorsHeuristic
from traitors.episode.core import RulesViolation
from traitors.episode.engine import run_episode
from traitors.episode.policy import Decision, Observation
from traitors.episode.spec import load_spec
from traitors.game.actions import ActionRequest, Pass, Speak, Vote
from traitors.game.events import InvalidActionEvent, Private, ReasoningEvent, VoteEvent


def small_spec(traitors_yaml, **rules: object):
    overrides = [
        "agents.default.policy=heuristic",
        "rules.n_players=5",
        "rules.n_traitors=1",
        *(f"rules.{k}={v}" for k, v in rules.items()),
    ]
    return load_spec(traitors_yaml, overrides)


class Scripted:
    """A policy answering with a function of (observation, request, attempt)."""

    def __init__(self, answer: Callable[[Observation, ActionRequest, int], Decision]) -> None:
        self.answer = answer
        self.requests: list[ActionRequest] = []

    async def decide(self, observation: Observation, request: ActionRequest) -> Decision:
        self.requests.append(request)
        attempt = 1 if request.error else 0
        return self.answer(observation, request, attempt)


def honest(seat: str, seed: int = 0) -> TraitorsHeuristic:
    return TraitorsHeuristic(seat, seed, WORDS)


def test_malformed_then_repaired_is_applied_without_an_invalid_event(traitors_yaml) -> None:
    def answer(obs, request, attempt):
        if request.purpose != "banish_vote":
            return Decision(request.default)
        if attempt == 0:
            return Decision(Vote(target="Nobody"))
        return Decision(Vote(target=request.targets[0]))

    alice = Scripted(answer)
    result = asyncio.run(run_episode(small_spec(traitors_yaml), 1, policies={"Alice": alice}))
    repaired = [r for r in alice.requests if r.error]
    assert repaired and "not legal" in (repaired[0].error or "")
    assert not [e for e in result.events if isinstance(e, InvalidActionEvent)]
    alice_votes = [e for e in result.events if isinstance(e, VoteEvent) and e.actor == "Alice"]
    assert alice_votes and all(v.target != "Nobody" for v in alice_votes)


def test_invalid_twice_applies_the_default_and_logs_it_privately(traitors_yaml) -> None:
    def answer(obs, request, attempt):
        if request.purpose == "banish_vote":
            return Decision(None, error="could not parse", raw="I vote for... hmm")
        if request.purpose == "discussion":
            return Decision(Speak(text="x" * 5000))  # over the text limit
        return Decision(request.default)

    result = asyncio.run(
        run_episode(small_spec(traitors_yaml), 2, policies={"Alice": Scripted(answer)})
    )
    invalid = [e for e in result.events if isinstance(e, InvalidActionEvent)]
    assert invalid, "expected invalid_action events"
    assert all(e.actor == "Alice" and e.visibility == Private(agent="Alice") for e in invalid)
    assert {e.applied for e in invalid} == {Pass().model_dump_json()}
    assert any("could not parse" in e.error for e in invalid)
    assert any("text over" in e.error for e in invalid)
    alice_votes = [e for e in result.events if isinstance(e, VoteEvent) and e.actor == "Alice"]
    assert alice_votes and all(v.target is None for v in alice_votes)  # Pass = abstain


def test_reasoning_is_private_to_its_agent(traitors_yaml) -> None:
    heuristic = honest("Alice")

    class Thinking:
        async def decide(self, obs, request):
            decision = await heuristic.decide(obs, request)
            return Decision(decision.action, reasoning=f"thinking about {request.purpose}")

    seen_by_bob: list = []

    class Spy:
        async def decide(self, obs, request):
            seen_by_bob.extend(obs.events)
            return await honest("Bob").decide(obs, request)

    result = asyncio.run(
        run_episode(small_spec(traitors_yaml), 3, policies={"Alice": Thinking(), "Bob": Spy()})
    )
    reasoning = [e for e in result.events if isinstance(e, ReasoningEvent)]
    assert reasoning and all(e.visibility == Private(agent="Alice") for e in reasoning)
    assert not [e for e in seen_by_bob if isinstance(e, ReasoningEvent)]


def test_simultaneous_decisions_run_concurrently_on_one_snapshot(traitors_yaml) -> None:
    spec = small_spec(traitors_yaml)
    players = spec.seats(5)
    started: set[str] = set()
    everyone = asyncio.Event()
    leaked: list[str] = []

    class Barrier:
        def __init__(self, seat: str) -> None:
            self.seat = seat
            self.inner = honest(seat)

        async def decide(self, obs, request):
            if request.purpose == "banish_vote" and request.actor in obs.alive and obs.round == 1:
                same_ballot = [e for e in obs.events if isinstance(e, VoteEvent) and e.round == 1]
                if same_ballot:
                    leaked.append(self.seat)
                started.add(self.seat)
                if started >= set(obs.alive):
                    everyone.set()
                # Deadlocks (and times out) unless every voter is deciding at once.
                await asyncio.wait_for(everyone.wait(), timeout=5)
            return await self.inner.decide(obs, request)

    asyncio.run(run_episode(spec, 4, policies={p: Barrier(p) for p in players}))
    assert started == set(players)
    assert not leaked


def test_dead_players_asked_to_act_is_a_rules_violation(traitors_yaml) -> None:
    from scenarios.the_traitors import TheTraitors
    from traitors.game.registry import register_scenario
    from traitors.game.rules import Step

    class Necromancer(TheTraitors):
        def plan(self, state):
            step = super().plan(state)
            dead = [p for p in state.players if p not in state.alive]
            if dead and step.requests:
                request = next(iter(step.requests.values())).model_copy(update={"actor": dead[0]})
                return Step(step.phase, {dead[0]: request}, step.simultaneous)
            return step

    register_scenario("necromancer", Necromancer)
    spec = small_spec(traitors_yaml).model_copy(update={"scenario": "necromancer"})
    with pytest.raises(RulesViolation, match="not alive"):
        asyncio.run(run_episode(spec, 0))


def test_same_seed_same_events_and_other_seeds_differ(traitors_yaml) -> None:
    spec = load_spec(traitors_yaml, ["agents.default.policy=heuristic"])

    def dump(seed: int) -> list[str]:
        return [e.model_dump_json() for e in asyncio.run(run_episode(spec, seed)).events]

    assert dump(11) == dump(11)
    assert dump(11) != dump(12)


def test_speaking_orders() -> None:
    seats = ("A", "B", "C", "D")
    assert fixed_order(seats, 3, 0, 9) == seats
    assert rotating_order(seats, 1, 0, 9) == ("B", "C", "D", "A")
    assert rotating_order(seats, 1, 1, 9) == ("C", "D", "A", "B")
    shuffled = {random_order(seats, r, 0, 9) for r in range(10)}
    assert all(sorted(o) == list(seats) for o in shuffled) and len(shuffled) > 1
    assert random_order(seats, 2, 0, 9) == random_order(seats, 2, 0, 9)
