"""``run_episode``: the async driver that asks policies and feeds their answers to the core.

Each decision point: snapshot the pending actors' observations, let their policies decide
(all at once in one TaskGroup when the step is simultaneous), give an illegal answer one
repair turn carrying the validation error, then ``submit`` to the ``EpisodeCore``, which
validates, defaults and applies. The manifest counts every seat's decisions, repairs,
defaults and model calls; beyond the spec's ``health`` limits the episode is ``degraded``.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from traitors import __version__
from traitors.episode.core import EpisodeCore, EpisodeObserver, RestoreError
from traitors.episode.fork import ForkPlan
from traitors.episode.policy import Decision, Observation, Policy, SeatContext, Services
from traitors.episode.spec import ScenarioSpec, episode_id
from traitors.game import registry
from traitors.game.actions import ActionError, ActionRequest
from traitors.game.events import Event as EventT
from traitors.game.rules import GameRules, Outcome
from traitors.game.seeds import derive_seed
from traitors.store.log import EpisodeWriter
from traitors.store.manifest import HealthLimits, Manifest, OutcomeRecord, SeatHealth


@dataclass
class EpisodeResult:
    """What an episode produced."""

    episode_id: str
    seed: int
    outcome: Outcome
    events: list[EventT]
    manifest: Manifest


def build_policy(
    spec: ScenarioSpec,
    rules: GameRules[Any],
    seat: str,
    role: str,
    seed: int,
    services: Services,
) -> Policy:
    """The policy of one seat, with its private ``seed``."""
    agent = spec.agent_for(seat, role)
    factory = registry.lookup("policy", agent.policy or "heuristic")
    context = SeatContext(
        seat=seat,
        role=role,
        agent=agent,
        seed=seed,
        rules=rules,
        personas=dict(spec.personas),
        services=services,
    )
    policy: Policy = factory.create(context)
    return policy


@dataclass
class _Play:
    """What every step of one episode shares: the repairs made and its health so far."""

    repaired: Counter[str]
    limits: HealthLimits
    services: Services

    def breach(self) -> str | None:
        """Why the episode can no longer count (None while it can, or with ``play_on``)."""
        if self.limits.play_on:
            return None
        total = SeatHealth()
        for seat in self.services.calls.seats.values():
            total.add(seat)
        return self.limits.breach(total)


async def run_episode(
    spec: ScenarioSpec,
    seed: int,
    *,
    writer: EpisodeWriter | None = None,
    policies: Mapping[str, Policy] | None = None,
    observers: Sequence[EpisodeObserver] = (),
    services: Services | None = None,
    fork: ForkPlan | None = None,
) -> EpisodeResult:
    """Play one episode of ``spec`` with root ``seed``; log it if ``writer`` is given.

    ``policies`` replaces the spec's agents for the seats it names (e.g. a human seat).
    With ``fork``, the episode is a fork of the parent played with ``spec`` and ``seed``:
    its first ``fork.at`` events are the parent's, the rest is played from the fork point
    (see ``traitors.episode.fork``).
    """
    services = services or Services()
    rules = spec.build_rules()
    players = spec.seats(rules.seat_count())
    manifest = Manifest(
        episode_id=fork.episode_id if fork else episode_id(spec, seed),
        name=spec.name,
        scenario=spec.scenario,
        seed=seed,
        spec=spec.model_dump(mode="json"),
        players=list(players),
        roles={},
        words=rules.words.model_dump(mode="json"),
        status="running",
        lessons_in=dict(services.lessons),
        started_at=time.time(),
        traitors_version=__version__,
        fork=fork.record if fork else None,
    )
    play = _Play(Counter(), spec.health, services)
    try:
        if writer is not None:
            writer.start(manifest)
        core = EpisodeCore(rules, players, seed, observers, log=writer)
        roles = core.initial_roles
        manifest.roles = dict(roles)
        manifest.agents = {seat: spec.agent_for(seat, roles[seat]).model_dump() for seat in roles}
        given = dict(policies or {})
        seats = {
            seat: given.get(seat)
            or build_policy(spec, rules, seat, role, derive_seed(seed, "agent", seat), services)
            for seat, role in roles.items()
        }
        fixed: dict[str, Decision] = {}
        if fork is not None:
            await _restore_prefix(core, seats, play, fork)
            served = _begin_continuation(core, seats, spec, services, fork)
            manifest.fork = fork.record.model_copy(update={"prefix_calls": served})
            fixed = fork.fixed_moves()
        while not core.over:
            await _step(core, seats, play, fixed)
            fixed = {}
            if breach := play.breach():
                core.stop(f"stopped, cannot count: {breach}")
            if writer is not None:
                writer.flush()
        lessons = await _finish(core, seats)
    except BaseException as exc:
        if writer is not None:
            manifest.status, manifest.status_reason = "failed", f"{type(exc).__name__}: {exc}"
            manifest.finished_at = time.time()
            writer.fail(traceback.format_exc(), manifest)
        raise
    assert core.outcome is not None
    _settle(manifest, core, services, play.repaired, spec)
    manifest.lessons_out = lessons
    if writer is not None:
        writer.finish(manifest)
    return EpisodeResult(manifest.episode_id, seed, core.outcome, core.events, manifest)


async def _restore_prefix(
    core: EpisodeCore, seats: Mapping[str, Policy], play: _Play, fork: ForkPlan
) -> None:
    """Play the fork's prefix: the seats decide again, their calls served from the recording;
    each step is checked against the parent's events."""
    while not core.over and len(core.events) < fork.at:
        await _step(core, seats, play)
        if fork.prefix is not None:
            core.verify(fork.prefix)
    if len(core.events) != fork.at:
        raise RestoreError(f"event {fork.at} is not a decision point of the episode")


def _begin_continuation(
    core: EpisodeCore,
    seats: dict[str, Policy],
    spec: ScenarioSpec,
    services: Services,
    fork: ForkPlan,
) -> int:
    """At the fork point: seats with a new agent get a new policy, the others are reseeded
    from the continuation's seed; the calls go live and usage counts start afresh (health
    still counts the whole game). Returns the calls served from the recording."""
    seed = fork.record.seed
    then = fork.continuation_spec(spec)
    rules = core.rules
    for seat, role in core.initial_roles.items():
        private = derive_seed(seed, "agent", seat)
        if then.agent_for(seat, role) != spec.agent_for(seat, role):
            seats[seat] = build_policy(then, rules, seat, role, private, services)
        elif (reseed := getattr(seats[seat], "reseed", None)) is not None:
            reseed(private)
    return services.calls.begin_continuation(live=fork.live)


async def _step(
    core: EpisodeCore,
    seats: Mapping[str, Policy],
    play: _Play,
    fixed: Mapping[str, Decision] | None = None,
) -> None:
    """One decision point: everyone asked decides on the same snapshot, then the core applies.
    Seats in ``fixed`` are not asked: their move is given."""
    fixed = fixed or {}
    requests = {agent: r for agent, r in core.pending.items() if agent not in fixed}
    snapshot = {agent: core.observe(agent) for agent in requests}
    moves: dict[str, Decision] = dict(fixed)
    if len(requests) == 1:
        [(agent, request)] = requests.items()
        moves[agent] = await _decide(seats[agent], snapshot[agent], request, play)
    elif requests:
        try:
            async with asyncio.TaskGroup() as group:
                tasks = {
                    agent: group.create_task(_decide(seats[agent], snapshot[agent], request, play))
                    for agent, request in requests.items()
                }
        except ExceptionGroup as failed:  # a seat's error, as if the seats had decided in turn
            raise failed.exceptions[0] from None
        moves.update({agent: task.result() for agent, task in tasks.items()})
    core.submit(moves)


async def _decide(
    policy: Policy, observation: Observation, request: ActionRequest, play: _Play
) -> Decision:
    """The policy's answer; an illegal one gets one repair turn carrying the error (none once
    the episode cannot count)."""
    decision = await policy.decide(observation, request)
    error = _validation_error(decision, request)
    if error is not None and not play.breach():
        decision = await policy.decide(observation, request.model_copy(update={"error": error}))
        if _validation_error(decision, request) is None:
            play.repaired[request.actor] += 1
    return decision


def _validation_error(decision: Decision, request: ActionRequest) -> str | None:
    if decision.action is None:
        return decision.error or "no action given"
    try:
        request.check(decision.action)
    except ActionError as exc:
        return str(exc)
    return None


async def _finish(core: EpisodeCore, seats: Mapping[str, Policy]) -> dict[str, str]:
    """Let policies that keep lessons write them once the game is over."""
    lessons = {}
    for seat, policy in seats.items():
        finish = getattr(policy, "finish", None)
        if finish is not None:
            text = await finish(core.observe(seat))
            if text:
                lessons[seat] = text
    return lessons


def _settle(
    manifest: Manifest,
    core: EpisodeCore,
    services: Services,
    repaired: Counter[str],
    spec: ScenarioSpec,
) -> None:
    """Fill in how the episode ended and how honestly it was played."""
    outcome = core.outcome
    assert outcome is not None
    total = SeatHealth()
    for seat in core.players:
        calls = services.calls.seats.get(seat, SeatHealth())
        health = SeatHealth(
            decisions=core.decisions[seat],
            defaulted=core.defaulted[seat],
            repaired=repaired[seat],
            calls=calls.calls,
            failed_calls=calls.failed_calls,
        )
        manifest.health[seat] = health
        total.add(health)
    manifest.health_total = total
    manifest.failed_kinds = dict(sorted(services.calls.failed_kinds.items()))
    reason = spec.health.verdict(manifest.health, total, manifest.failed_kinds)
    manifest.status = "degraded" if reason else "complete"
    manifest.status_reason = reason
    manifest.final_roles = dict(core.state.roles)
    manifest.outcome = OutcomeRecord(
        winner=outcome.winner,
        reason=outcome.reason,
        rounds=outcome.rounds,
        truncated=outcome.truncated,
    )
    manifest.n_events = len(core.events)
    manifest.usage = dict(services.calls.totals)
    manifest.finished_at = time.time()
