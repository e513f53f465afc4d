"""Pieces the scenarios share: phase transitions, belief probes, tallies, reading survivors
from a log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from traitors.game.actions import Action, ActionRequest, Belief
from traitors.game.events import (
    BeliefEvent,
    EliminationEvent,
    Event,
    PhaseEvent,
    Private,
    RoleEvent,
)
from traitors.game.rules import IllegalTransition


class PhasedState(Protocol):
    """A frozen dataclass state with a phase, a round and the living players."""

    @property
    def phase(self) -> str: ...

    @property
    def round(self) -> int: ...

    @property
    def alive(self) -> tuple[str, ...]: ...


S = TypeVar("S", bound=PhasedState)


@dataclass(frozen=True)
class SeatsState:
    """The fields every scenario's state has; scenarios add their own after them."""

    round: int
    phase: str
    players: tuple[str, ...]
    alive: tuple[str, ...]
    roles: Mapping[str, str]
    """Player -> current role."""
    channels: Mapping[str, frozenset[str]]
    """Channel name -> members now."""

    def living(self, *roles: str) -> tuple[str, ...]:
        """Living players holding one of ``roles``, in seat order."""
        return tuple(p for p in self.alive if self.roles[p] in roles)


def goto(
    state: S,
    phase: str,
    transitions: Mapping[str, frozenset[str]],
    events: list[Event],
    **changes: Any,
) -> S:
    """Move to ``phase`` (raising on a transition the table does not allow) and announce it."""
    if phase not in transitions[state.phase]:
        raise IllegalTransition(f"{state.phase} -> {phase}")
    state = replace(state, phase=phase, **changes)  # type: ignore[type-var]
    events.append(PhaseEvent(round=state.round, phase=phase, alive=state.alive))
    return state


def survivors(events: Sequence[Event]) -> tuple[dict[str, str], set[str]]:
    """Every player's latest role and the players still alive, from the log alone."""
    roles: dict[str, str] = {}
    alive: set[str] = set()
    for event in events:
        if isinstance(event, PhaseEvent) and event.phase == "setup":
            alive = set(event.alive)
        elif isinstance(event, RoleEvent):
            roles[event.player] = event.role
        elif isinstance(event, EliminationEvent):
            alive.discard(event.target)
    return roles, alive


def tally(votes: Mapping[str, str | None]) -> dict[str, int]:
    """Votes per target, sorted by target; abstentions are not counted."""
    counts = Counter(t for t in votes.values() if t is not None)
    return dict(sorted(counts.items()))


def leaders(counts: Mapping[str, int]) -> tuple[str, ...]:
    """Targets with the most votes, sorted."""
    if not counts:
        return ()
    best = max(counts.values())
    return tuple(sorted(t for t, n in counts.items() if n == best))


def belief_probe(
    players: Sequence[str], what: str, purpose: str = "belief", among: Sequence[str] = ()
) -> dict[str, ActionRequest]:
    """A private probe of each of ``players``: the probability that each other player (of
    ``among``, default ``players``) is ``what`` (``a traitor``, ``evil``, ``Merlin``)."""
    return {
        player: ActionRequest(
            actor=player,
            purpose=purpose,
            prompt=f"Privately: for each player listed, how likely is it (0 to 1) that they are "
            f"{what}? Nobody else sees this.",
            kinds=("belief",),
            targets=tuple(p for p in (among or players) if p != player),
            default=Belief(probs={}),
        )
        for player in players
    }


def belief_events(
    state: PhasedState, actions: Mapping[str, Action], kind: Callable[..., Event] = BeliefEvent
) -> list[Event]:
    """One private event per probed player with its report (empty if it gave none); ``kind``
    is ``BeliefEvent`` or a scenario's own (Avalon's P(Merlin))."""
    return [
        kind(
            round=state.round,
            phase=state.phase,
            actor=player,
            visibility=Private(agent=player),
            probs=dict(sorted(action.probs.items())) if isinstance(action, Belief) else {},
        )
        for player, action in sorted(actions.items())
    ]
