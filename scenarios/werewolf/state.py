"""A Werewolf game's state, and the seat orders and sequential votes of Kaggle's rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from scenarios.common import (
    TableState,
    ballots,
    tally,
    vote_events,
)
from scenarios.werewolf.config import Order
from scenarios.werewolf.words import (
    WEREWOLF,
)
from traitors.game.actions import (
    Action,
)
from traitors.game.events import (
    PUBLIC,
    Event,
    Visibility,
)
from traitors.game.seeds import derive_rng


@dataclass(frozen=True, kw_only=True)
class WerewolfState(TableState):
    """The full state of a game; replaced, never mutated."""

    turn: int = 0
    """Debate turns held today."""
    speaker: str | None = None
    """Winner of the last bid, about to speak."""
    cast: tuple[tuple[str, str | None], ...] = ()
    """Votes cast so far in a sequential vote (voter, target or None), in order."""
    protected: str | None = None
    """Whom the doctor protected last night (None: nobody)."""
    cursors: Mapping[str, int] = field(default_factory=dict)
    """Order name -> the seat after the last first one (``rotate`` orders)."""

    def village(self) -> tuple[str, ...]:
        """Living players who are not werewolves."""
        return tuple(p for p in self.alive if self.roles[p] != WEREWOLF)


def seat_order(
    state: WerewolfState,
    among: Sequence[str],
    strategy: Order,
    name: str,
    first: str | None = None,
) -> tuple[tuple[str, ...], WerewolfState]:
    """``among`` in seat order from a first seat chosen by ``strategy`` (Kaggle's pivot: the
    first seat, a seeded random seat, or the seat after last time's first; dead seats are
    passed over), and the state with the ``rotate`` cursor moved on. ``first``: a random
    order's recorded first seat (``WerewolfConfig.draws``)."""
    seats, members = state.players, set(among)
    n = len(seats)
    if strategy == "fixed":
        pivot = 0
    elif strategy == "random":
        pivot = (
            seats.index(first)
            if first in members
            else derive_rng(state.seed, "order", name, state.round).randrange(n)
        )
    else:
        start = state.cursors.get(name, 0)
        pivot = next((i % n for i in range(start, start + n) if seats[i % n] in members), 0)
        state = replace(state, cursors={**state.cursors, name: (pivot + 1) % n})
    order = tuple(seats[(pivot + i) % n] for i in range(n) if seats[(pivot + i) % n] in members)
    return order, state


def standing(cast: Sequence[tuple[str, str | None]]) -> str:
    """The votes so far of a sequential vote, for the next voter's prompt."""
    counts = tally(dict(cast))
    if not counts:
        return "No votes yet."
    return "Votes so far: " + ", ".join(f"{t} {n}" for t, n in counts.items()) + "."


def still_to_vote(state: WerewolfState, order: Sequence[str]) -> tuple[str, ...]:
    """The voters of a sequential vote's ``order`` who have not voted yet."""
    done = {voter for voter, _ in state.cast}
    return tuple(v for v in order if v not in done)


def cast_vote(
    state: WerewolfState,
    actions: Mapping[str, Action],
    purpose: str,
    events: list[Event],
    visibility: Visibility = PUBLIC,
) -> WerewolfState:
    """The one voter of a sequential vote's step votes, seen at once."""
    vote = ballots(actions)
    events += vote_events(state, vote, purpose, visibility)
    return replace(state, cast=(*state.cast, *vote.items()))
