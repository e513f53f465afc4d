"""The steppable episode core: the one loop every driver stands on.

``EpisodeCore`` is synchronous and owns an episode: the rules' state, the event log, what
each seat has seen, the requests waiting for an answer, the rule checks and game over.
Drivers only decide: ``run_episode`` asks policies (async), the PettingZoo adapters map
catalogue indices, the conformance check audits. ``EpisodeCore.restore`` rebuilds a core
from a log prefix by re-applying the recorded actions (no policy, no model call).

Semantics: automatic steps (no requests) are applied by themselves; the actors of a
sequential step answer one by one, each applied on its own; a simultaneous step's answers
are applied together, sorted by agent id. For each actor the core records its private
reasoning, an ``invalid_action`` event when its answer was not legal (the request's default
is then applied), and a god-only ``act`` event with the action applied; then the events
the rules derive from the step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from traitors.episode.policy import Decision, Observation
from traitors.game.actions import ActionBase, ActionError, ActionRequest, describe
from traitors.game.events import (
    ActEvent,
    EventBase,
    GameOverEvent,
    GodOnly,
    InvalidActionEvent,
    Private,
    ReasoningEvent,
    audience,
    of_decision,
)
from traitors.game.rules import GameRules, GameState, Outcome
from traitors.game.seeds import derive_rng

MAX_STEPS = 100_000
"""Steps after which an episode that has not ended is a broken scenario."""


class RulesViolation(RuntimeError):
    """The scenario broke the rules contract (asked a dead player to act, never ended, ...)."""


class RestoreError(RuntimeError):
    """A log prefix cannot be re-played: it is not this spec and seed's log, or is damaged."""


class EventSink(Protocol):
    """Where the core writes its events as they are recorded (the episode's log)."""

    def on_event(self, event: EventBase, state: GameState) -> None:
        """An event was recorded; ``state`` is the state it happened in."""


class EpisodeObserver(Protocol):
    """Hooks for live views and audits; called synchronously by the core."""

    def on_event(self, event: EventBase, state: GameState) -> None:
        """An event was recorded; ``state`` is the state it happened in."""

    def on_decision(
        self, observation: Observation, request: ActionRequest, action: ActionBase
    ) -> None:
        """``action`` (already validated or defaulted) is about to be applied."""


class EpisodeCore:
    """One episode, advanced by ``submit``; see the module docstring for the semantics."""

    def __init__(
        self,
        rules: GameRules[Any],
        players: Sequence[str],
        seed: int,
        observers: Sequence[EpisodeObserver] = (),
        log: EventSink | None = None,
    ) -> None:
        self.rules = rules
        self.seed = seed
        self.observers = list(observers)
        self.log = log
        """Gets every event first (e.g. the episode's ``EpisodeWriter``)."""
        self.state: GameState = rules.initial_state(players, derive_rng(seed, "rules"))
        self.players: tuple[str, ...] = self.state.players
        self.initial_roles: dict[str, str] = {p: self.state.roles[p] for p in self.players}
        """Seat -> role dealt, in seat order."""
        self.events: list[EventBase] = []
        """Every event so far (the god's view), ``seq`` set."""
        self.seen: dict[str, list[EventBase]] = {p: [] for p in self.players}
        """Each seat's events, as ``visible_to`` let it see them."""
        self.pending: dict[str, ActionRequest] = {}
        """Who must answer now: one actor of a sequential step, or a simultaneous step."""
        self.outcome: Outcome | None = None
        self.defaulted: Counter[str] = Counter()
        """Per seat: answers replaced by the request's default."""
        self.decisions: Counter[str] = Counter()
        """Per seat: answers applied."""
        self._queue: list[tuple[str, ActionRequest]] = []
        self._steps = 0
        self._verified = 0
        self.record(rules.setup_events(self.state))
        self._advance()

    @property
    def over(self) -> bool:
        """True once the game has ended."""
        return self.outcome is not None

    def observe(self, agent: str) -> Observation:
        """Everything ``agent`` may know now."""
        state = self.state
        return Observation(
            agent, state.round, state.phase, state.players, state.alive, tuple(self.seen[agent])
        )

    def check(self, agent: str, action: ActionBase | None) -> str | None:
        """Why ``action`` is not a legal answer to ``agent``'s request, or None if it is."""
        if action is None:
            return "no action given"
        try:
            self.pending[agent].check(action)
        except ActionError as exc:
            return str(exc)
        return None

    def submit(self, moves: Mapping[str, Decision | ActionBase]) -> None:
        """Answer the pending requests (a missing or illegal answer gets the default) and
        advance to the next decision or to game over."""
        if not self.pending:
            raise RulesViolation("nothing to answer: the episode is over")
        extra = sorted(set(moves) - set(self.pending))
        if extra:
            raise RulesViolation(f"{', '.join(extra)} answered without being asked")
        actions = {}
        for agent in sorted(self.pending):
            move = moves.get(agent, Decision(None))
            actions[agent] = self._decide(
                agent, move if isinstance(move, Decision) else Decision(move)
            )
        self._apply(actions)
        if self._queue:
            self._next_actor()
        else:
            self._advance()

    def record(self, events: Sequence[EventBase]) -> None:
        """Append events to the log, number them, and show them to whoever may see them."""
        for event in events:
            if event.seq != -1:  # recorded before (elsewhere): number a copy, not that one
                event = event.model_copy()
            object.__setattr__(event, "seq", len(self.events))  # fresh, so no one holds it yet
            self.events.append(event)
            seers = audience(event, self.state)
            for agent in self.seen if seers is None else seers:
                if agent in self.seen:
                    self.seen[agent].append(event)
            if self.log is not None:
                self.log.on_event(event, self.state)
            for observer in self.observers:
                observer.on_event(event, self.state)

    # --- internals ----------------------------------------------------------------------

    def _decide(self, agent: str, move: Decision) -> ActionBase:
        request = self.pending[agent]
        error = move.error if move.action is None else self.check(agent, move.action)
        state = self.state
        base = {"round": state.round, "phase": state.phase, "actor": agent}
        events: list[EventBase] = []
        if move.reasoning:
            events.append(
                ReasoningEvent(**base, visibility=Private(agent=agent), text=move.reasoning)
            )
        for note in move.notes:  # re-stamped; private unless the kind is god-only
            hidden = isinstance(note.visibility, GodOnly)
            seen = note.visibility if hidden else Private(agent=agent)
            events.append(note.model_copy(update={**base, "visibility": seen, "seq": -1}))
        action = move.action
        if action is None or error is not None:
            attempted = describe(action) if action is not None else (move.raw or "")
            action = request.default
            self.defaulted[agent] += 1
            events.append(
                InvalidActionEvent(
                    **base,
                    visibility=Private(agent=agent),
                    error=error or "no action given",
                    attempted=attempted,
                    applied=describe(action),
                )
            )
        events.append(ActEvent(**base, action=action))
        self.decisions[agent] += 1
        if self.observers:
            observation = self.observe(agent)
            for observer in self.observers:
                observer.on_decision(observation, request, action)
        self.record(events)
        return action

    def _apply(self, actions: Mapping[str, ActionBase]) -> None:
        self._steps += 1
        if self._steps > MAX_STEPS:
            raise RulesViolation(f"episode did not end within {MAX_STEPS} steps")
        self.state, events = self.rules.apply(self.state, actions)
        self.record(events)

    def _advance(self) -> None:
        """Run automatic steps until someone must decide or the game is over."""
        self.pending = {}
        while (outcome := self.rules.outcome(self.state)) is None:
            step = self.rules.plan(self.state)
            self._check_step(step.requests)
            if not step.requests:
                self._apply({})
            elif step.simultaneous:
                self.pending = dict(step.requests)
                return
            else:
                self._queue = list(step.requests.items())
                self._next_actor()
                return
        self._end(outcome)

    def stop(self, reason: str) -> None:
        """End the episode now, with no winner (e.g. once it can no longer count)."""
        self.pending, self._queue = {}, []
        self._end(Outcome(winner=None, reason=reason, rounds=self.state.round, truncated=True))

    def _end(self, outcome: Outcome) -> None:
        self.outcome = outcome
        state = self.state
        self.record(
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

    def _next_actor(self) -> None:
        agent, request = self._queue.pop(0)
        self.pending = {agent: request}

    def _check_step(self, requests: Mapping[str, ActionRequest]) -> None:
        for agent, request in requests.items():
            if agent not in self.state.alive:
                raise RulesViolation(f"{agent} is not alive but was asked to act")
            if request.actor != agent:
                raise RulesViolation(f"request for {agent} names actor {request.actor}")
            try:
                request.check(request.default)
            except ActionError as exc:
                raise RulesViolation(f"default action for {agent} is illegal: {exc}") from None

    # --- restoring --------------------------------------------------------------------

    @classmethod
    def restore(
        cls,
        rules: GameRules[Any],
        players: Sequence[str],
        seed: int,
        log: Sequence[EventBase],
        until: int | None = None,
        observers: Sequence[EpisodeObserver] = (),
    ) -> EpisodeCore:
        """The core as it was at the last decision point at or before event ``until`` of
        ``log`` (default: its end; never before the first decision point, as the setup and
        the automatic steps before it are the start), rebuilt by re-applying the actions
        recorded in it.

        Every event the core re-creates is checked against the log: a log of another spec,
        seed or code version raises RestoreError at the first difference. ``len(events)``
        of the result tells where it stopped (``until`` itself when that is a decision
        point; earlier when ``until`` falls inside a step).
        """
        limit = len(log) if until is None else min(until, len(log))
        core = cls(rules, players, seed, observers)
        core.verify(log)
        while core.pending and len(core.events) < limit:
            start = len(core.events)
            moves, end = _recorded_moves(log, start, core.pending)
            if _step_end(log, end) > limit:
                break
            core.submit(moves)
            core.verify(log)
        return core

    def verify(self, log: Sequence[EventBase]) -> None:
        """Raise RestoreError unless the events so far are the log's first ones."""
        if len(self.events) > len(log):
            raise RestoreError(f"the log ends at event {len(log)}; the game goes on")
        for event in self.events[self._verified :]:
            recorded = log[event.seq]
            if event != recorded:
                raise RestoreError(
                    f"event {event.seq} differs from the log:\n  log:     "
                    f"{recorded.model_dump_json()}\n  restored: {event.model_dump_json()}"
                )
        self._verified = len(self.events)


def _recorded_moves(
    log: Sequence[EventBase], start: int, pending: Mapping[str, ActionRequest]
) -> tuple[dict[str, Decision], int]:
    """The moves recorded for the pending actors from ``start`` on, and where they end."""
    reasoning: dict[str, str] = {}
    notes: dict[str, list[EventBase]] = {}
    invalid: dict[str, InvalidActionEvent] = {}
    moves: dict[str, Decision] = {}
    index = start
    while len(moves) < len(pending):
        if index >= len(log):
            raise RestoreError(f"the log ends at event {len(log)} inside a decision")
        event = log[index]
        agent = event.actor or ""
        if not of_decision(event) or agent not in pending:
            raise RestoreError(
                f"event {index} ({event.kind}) is not a recorded decision of "
                f"{', '.join(sorted(pending))}"
            )
        if isinstance(event, ReasoningEvent):
            reasoning[agent] = event.text
        elif event.note:
            notes.setdefault(agent, []).append(event)
        elif isinstance(event, InvalidActionEvent):
            invalid[agent] = event
        elif isinstance(event, ActEvent):
            failed = invalid.get(agent)
            moves[agent] = Decision(
                None if failed else event.action,
                failed.error if failed else None,
                failed.attempted if failed else None,
                reasoning.get(agent),
                notes=tuple(notes.get(agent, ())),
            )
        index += 1
    return moves, index


def _step_end(log: Sequence[EventBase], index: int) -> int:
    """Where the events a step derived (from ``index`` on) end: the next decision's start."""
    while index < len(log) and not of_decision(log[index]):
        index += 1
    return index
