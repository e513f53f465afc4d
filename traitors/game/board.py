"""The state of a spectator's view, folded from the events shown to it, in order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from traitors.game.events import (
    BeliefEvent,
    EliminationEvent,
    Event,
    GameOverEvent,
    PhaseEvent,
    RevealEvent,
    RoleEvent,
    VoteEvent,
    VoteResultEvent,
)
from traitors.game.words import Words

TRANSCRIPT_KEEP = 300
"""Transcript events kept for display; older ones scroll away."""


class UnknownPlayer(LookupError):
    """The view was asked for a player who is not at the table."""


def check_seat(seat: str | None, players: Sequence[str]) -> None:
    """UnknownPlayer, naming the table, unless ``seat`` is None (god) or one of ``players``."""
    if seat is not None and seat not in players:
        raise UnknownPlayer(f"unknown player {seat!r}; players: {', '.join(players)}")


@dataclass
class Seat:
    """One player as the viewer knows them."""

    name: str
    fate: str = ""
    """Empty while alive, else e.g. ``exiled r2`` or ``killed r1``."""
    role: str | None = None
    """The role, if the viewer knows it."""
    revealed: bool = False
    """Whether the role was revealed to everyone."""

    @property
    def alive(self) -> bool:
        """Still in the game."""
        return not self.fate


@dataclass
class Tally:
    """The vote being counted (or the last one counted)."""

    round: int
    purpose: str
    ballot: int
    votes: dict[str, str | None] = field(default_factory=dict)
    """Voter -> target (None for an abstention), as far as the viewer saw them."""
    counts: dict[str, int] = field(default_factory=dict)
    """Target -> votes."""
    decided: str | None = None
    """Who the ballot chose, once counted."""
    tied: tuple[str, ...] = ()
    """Targets tied for most votes, once counted."""
    counted: bool = False
    """True once the result event arrived."""


class Board:
    """Players, transcript, vote tally and beliefs, as one viewer (or god) saw them.

    The engine's kinds are folded in here; a scenario's own kinds change the board through
    their ``update_board`` hook (e.g. a line in ``notes``).
    """

    def __init__(self, words: Words, viewer: str | None = None) -> None:
        self.words = words
        """The scenario's words: faction names, what a belief probe asks about."""
        self.viewer = viewer
        """The player whose view this is; None for the god view."""
        self.seats: dict[str, Seat] = {}
        self.round = 0
        self.phase = ""
        self.transcript: list[Event] = []
        self.tally: Tally | None = None
        self.beliefs: dict[str, dict[str, float]] = {}
        """Believer -> their latest P(hidden faction) for each other player."""
        self.notes: dict[str, str] = {}
        """Scenario facts to show beside the players (e.g. a quest track), by label."""
        self.game_over: GameOverEvent | None = None
        hidden = [f for f in words.factions if f.hidden]
        self.hidden_roles = words.hidden_roles() | {f.member for f in hidden}
        """Roles (and member words) of the hidden side: shown in red."""

    def update(self, event: Event) -> None:
        """Fold in the next event the viewer was shown."""
        self.round, self.phase = event.round, event.phase
        if isinstance(event, PhaseEvent) and not self.seats:
            self._seat(event.alive)
        elif isinstance(event, RoleEvent):
            self.seats[event.player].role = event.role
            ally = self.words.faction(event.role).member if event.role in self.words.roles else "?"
            for name in event.allies:
                self.seats[name].role = self.seats[name].role or ally
        elif isinstance(event, RevealEvent):
            self.seats[event.player].role = event.role
            self.seats[event.player].revealed = True
        elif isinstance(event, EliminationEvent):
            fate = self.words.elimination(event.cause)
            self.seats[event.target].fate = f"{fate} r{event.round}"
        elif isinstance(event, BeliefEvent):
            self.beliefs[event.actor or ""] = dict(event.probs)
        elif isinstance(event, VoteEvent | VoteResultEvent):
            self._count(event)
        elif isinstance(event, GameOverEvent):
            self.game_over = event
        event.update_board(self)
        if not isinstance(event, BeliefEvent) and event.line_text(self.words) is not None:
            self.transcript.append(event)
            del self.transcript[:-TRANSCRIPT_KEEP]

    def _seat(self, players: tuple[str, ...]) -> None:
        check_seat(self.viewer, players)
        self.seats = {name: Seat(name) for name in players}

    def _count(self, event: VoteEvent | VoteResultEvent) -> None:
        key = (event.round, event.purpose, event.ballot)
        tally = self.tally
        if tally is None or tally.counted or (tally.round, tally.purpose, tally.ballot) != key:
            tally = self.tally = Tally(event.round, event.purpose, event.ballot)
        if isinstance(event, VoteEvent):
            tally.votes[event.actor or ""] = event.target
            if event.target is not None:
                tally.counts[event.target] = tally.counts.get(event.target, 0) + 1
        else:
            tally.counts = dict(event.tally)
            tally.decided = event.decided
            tally.tied = event.tied
            tally.counted = True
