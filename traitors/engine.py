"""The episode loop: plan -> observe -> decide -> validate -> apply."""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from traitors import __version__, registry
from traitors.actions import Action, ActionError, ActionRequest, describe
from traitors.events import Event as EventT
from traitors.events import (
    GameOverEvent,
    InvalidActionEvent,
    Private,
    ReasoningEvent,
    visible_to,
)
from traitors.llm.gateway import CallLog
from traitors.log import EpisodeWriter
from traitors.policy import Decision, Observation, Policy, SeatContext
from traitors.rules import GameRules, GameState, Outcome
from traitors.seeds import derive_rng, derive_seed
from traitors.spec import ScenarioSpec, episode_id

MAX_STEPS = 100_000


class RulesViolation(RuntimeError):
    """The scenario broke the rules contract (asked a dead player to act, never ended, ...)."""


class EpisodeObserver(Protocol):
    """Hooks for live views and audits; called synchronously inside the loop."""

    def on_event(self, event: EventT, state: GameState) -> None:
        """An event was recorded; ``state`` is the state it happened in."""

    def on_decision(self, observation: Observation, request: ActionRequest, action: Action) -> None:
        """``action`` (already validated or defaulted) is about to be applied."""


@dataclass
class EpisodeResult:
    """What an episode produced."""

    episode_id: str
    seed: int
    outcome: Outcome
    events: list[EventT]
    manifest: dict[str, Any]


@dataclass
class _Episode:
    rules: GameRules[Any]
    state: GameState
    policies: Mapping[str, Policy]
    writer: EpisodeWriter | None
    observers: Sequence[EpisodeObserver]
    events: list[EventT] = field(default_factory=list)
    seen: dict[str, list[EventT]] = field(default_factory=dict)

    def record(self, events: Sequence[EventT]) -> None:
        for event in events:
            event = event.model_copy(update={"seq": len(self.events)})
            self.events.append(event)
            for agent, seen in self.seen.items():
                if visible_to(event, agent, self.state):
                    seen.append(event)
            if self.writer is not None:
                self.writer.event(event)
            for observer in self.observers:
                observer.on_event(event, self.state)

    def observe(self, agent: str) -> Observation:
        state = self.state
        return Observation(
            agent, state.round, state.phase, state.players, state.alive, tuple(self.seen[agent])
        )

    def apply(self, actions: Mapping[str, Action]) -> None:
        self.state, events = self.rules.apply(self.state, actions)
        self.record(events)

    async def decide(self, agent: str, request: ActionRequest, obs: Observation) -> _Choice:
        policy = self.policies[agent]
        decision = await policy.decide(obs, request)
        error = _validation_error(decision, request)
        if error is not None:
            decision = await policy.decide(obs, request.model_copy(update={"error": error}))
            error = _validation_error(decision, request)
        extra: list[EventT] = []
        base = {"round": obs.round, "phase": obs.phase, "actor": agent}
        if decision.reasoning:
            extra.append(
                ReasoningEvent(**base, visibility=Private(agent=agent), text=decision.reasoning)
            )
        action: Action
        if error is None:
            assert decision.action is not None
            action = decision.action
        else:
            action = request.default
            attempted = describe(decision.action) if decision.action else (decision.raw or "")
            extra.append(
                InvalidActionEvent(
                    **base,
                    visibility=Private(agent=agent),
                    error=error,
                    attempted=attempted,
                    applied=describe(action),
                )
            )
        for observer in self.observers:
            observer.on_decision(obs, request, action)
        return _Choice(action, extra)


@dataclass
class _Choice:
    action: Action
    events: list[EventT]


def _validation_error(decision: Decision, request: ActionRequest) -> str | None:
    if decision.action is None:
        return decision.error or "no action given"
    try:
        request.check(decision.action)
    except ActionError as exc:
        return str(exc)
    return None


def build_rules(spec: ScenarioSpec) -> GameRules[Any]:
    """Instantiate the spec's scenario rules."""
    rules_class = registry.lookup("scenario", spec.scenario)
    return rules_class(spec.rules_config())  # type: ignore[no-any-return]


def build_policies(
    spec: ScenarioSpec,
    rules: GameRules[Any],
    state: GameState,
    seed: int,
    services: Mapping[str, Any] | None = None,
) -> dict[str, Policy]:
    """One policy per seat, from the spec's agent layers and the dealt roles."""
    policies: dict[str, Policy] = {}
    for seat in state.players:
        role = state.roles[seat]
        agent = spec.agent_for(seat, role)
        factory = registry.lookup("policy", agent.policy or "heuristic")
        context = SeatContext(
            seat=seat,
            role=role,
            agent=agent,
            seed=derive_seed(seed, "agent", seat),
            rules=rules,
            personas=dict(spec.personas),
            services=dict(services or {}),
        )
        policies[seat] = factory.create(context)
    return policies


async def run_episode(
    spec: ScenarioSpec,
    seed: int,
    *,
    writer: EpisodeWriter | None = None,
    policies: Mapping[str, Policy] | None = None,
    observers: Sequence[EpisodeObserver] = (),
    services: Mapping[str, Any] | None = None,
) -> EpisodeResult:
    """Play one episode of ``spec`` with root ``seed``; log it if ``writer`` is given.

    ``policies`` replaces the spec's agents for the seats it names (e.g. a human seat).
    """
    started = time.time()
    try:
        rules = build_rules(spec)
        players = spec.seats(rules.seat_count())
        state = rules.initial_state(players, derive_rng(seed, "rules"))
        seats = build_policies(spec, rules, state, seed, services)
        seats.update(policies or {})
        episode = _Episode(rules, state, seats, writer, observers)
        episode.seen = {p: [] for p in state.players}
        initial_roles = dict(state.roles)
        episode.record(rules.setup_events(state))
        outcome = await _play(episode)
        lessons = await _finish(episode)
    except BaseException:
        if writer is not None:
            writer.fail(traceback.format_exc())
        raise
    eid = episode_id(spec, seed)
    manifest = {
        "episode_id": eid,
        "name": spec.name,
        "scenario": spec.scenario,
        "seed": seed,
        "spec": spec.model_dump(mode="json"),
        "players": list(players),
        "roles": initial_roles,
        "final_roles": dict(episode.state.roles),
        "outcome": {
            "winner": outcome.winner,
            "reason": outcome.reason,
            "rounds": outcome.rounds,
            "truncated": outcome.truncated,
        },
        "n_events": len(episode.events),
        "agents": {
            seat: spec.agent_for(seat, initial_roles[seat]).model_dump() for seat in players
        },
        "lessons_in": dict((services or {}).get("lessons", {})),
        "lessons_out": lessons,
        "status": "complete",
        "started_at": started,
        "finished_at": time.time(),
        "traitors_version": __version__,
    }
    calls = (services or {}).get("calls")
    if isinstance(calls, CallLog):
        manifest["usage"] = dict(calls.totals)
    if writer is not None:
        writer.finish(manifest)
    return EpisodeResult(eid, seed, outcome, episode.events, manifest)


async def _finish(episode: _Episode) -> dict[str, str]:
    """Let policies that keep lessons write them once the game is over."""
    lessons = {}
    for seat, policy in episode.policies.items():
        finish = getattr(policy, "finish", None)
        if finish is not None:
            text = await finish(episode.observe(seat))
            if text:
                lessons[seat] = text
    return lessons


async def _play(episode: _Episode) -> Outcome:
    rules = episode.rules
    for _ in range(MAX_STEPS):
        outcome = rules.outcome(episode.state)
        if outcome is not None:
            state = episode.state
            episode.record(
                [
                    GameOverEvent(
                        round=state.round,
                        phase=state.phase,
                        winner=outcome.winner,
                        reason=outcome.reason,
                        truncated=outcome.truncated,
                    )
                ]
            )
            return outcome
        step = rules.plan(episode.state)
        _check_step(step.requests, episode.state)
        if not step.requests:
            episode.apply({})
        elif step.simultaneous:
            await _simultaneous(episode, step.requests)
        else:
            for agent, request in step.requests.items():
                choice = await episode.decide(agent, request, episode.observe(agent))
                episode.record(choice.events)
                episode.apply({agent: choice.action})
    raise RulesViolation(f"episode did not end within {MAX_STEPS} steps")


async def _simultaneous(episode: _Episode, requests: Mapping[str, ActionRequest]) -> None:
    """Snapshot every observation, decide all at once, apply sorted by agent id."""
    snapshot = {agent: episode.observe(agent) for agent in requests}
    async with asyncio.TaskGroup() as group:
        tasks = {
            agent: group.create_task(episode.decide(agent, request, snapshot[agent]))
            for agent, request in requests.items()
        }
    choices = {agent: tasks[agent].result() for agent in sorted(tasks)}
    for choice in choices.values():
        episode.record(choice.events)
    episode.apply({agent: choice.action for agent, choice in choices.items()})


def _check_step(requests: Mapping[str, ActionRequest], state: GameState) -> None:
    for agent, request in requests.items():
        if agent not in state.alive:
            raise RulesViolation(f"{agent} is not alive but was asked to act")
        if request.actor != agent:
            raise RulesViolation(f"request for {agent} names actor {request.actor}")
        try:
            request.check(request.default)
        except ActionError as exc:
            raise RulesViolation(f"default action for {agent} is illegal: {exc}") from None
