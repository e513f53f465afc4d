"""The state of a spectator's view, folded from the events shown to it, in order."""

from __future__ import annotations

from dataclasses import dataclass, field

from traitors.events import (
    BanishEvent,
    BeliefEvent,
    Event,
    GameOverEvent,
    MurderEvent,
    PhaseEvent,
    RevealEvent,
    RoleEvent,
    VoteEvent,
    VoteResultEvent,
)
from traitors.spectate.lines import event_text

TRANSCRIPT_KEEP = 300
"""Transcript events kept for display; older ones scroll away."""


class UnknownPlayer(LookupError):
    """The view was asked for a player who is not at the table."""


@dataclass
class Seat:
    """One player as the viewer knows them."""

    name: str
    fate: str = ""
    """Empty while alive, else e.g. ``banished r2`` or ``murdered r1``."""
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
    """Players, transcript, vote tally and beliefs, as one viewer (or god) saw them."""

    def __init__(self, viewer: str | None = None) -> None:
        self.viewer = viewer
        """The player whose view this is; None for the god view."""
        self.seats: dict[str, Seat] = {}
        self.round = 0
        self.phase = ""
        self.transcript: list[Event] = []
        self.tally: Tally | None = None
        self.beliefs: dict[str, dict[str, float]] = {}
        """Believer -> their latest P(traitor) for each other player."""
        self.game_over: GameOverEvent | None = None
        self.team_roles: set[str] = set()
        """Roles seen coming with a private channel (traitors, werewolves): shown in red."""

    def update(self, event: Event) -> None:
        """Fold in the next event the viewer was shown."""
        self.round, self.phase = event.round, event.phase
        if isinstance(event, PhaseEvent) and not self.seats:
            self._seat(event.alive)
        elif isinstance(event, RoleEvent):
            for name in (event.player, *event.allies):
                self.seats[name].role = event.role
            if event.channels:
                self.team_roles.add(event.role)
        elif isinstance(event, RevealEvent):
            self.seats[event.player].role = event.role
            self.seats[event.player].revealed = True
        elif isinstance(event, BanishEvent | MurderEvent):
            verb = "banished" if isinstance(event, BanishEvent) else "murdered"
            self.seats[event.target].fate = f"{verb} r{event.round}"
        elif isinstance(event, BeliefEvent):
            self.beliefs[event.actor or ""] = dict(event.probs)
        elif isinstance(event, VoteEvent | VoteResultEvent):
            self._count(event)
        elif isinstance(event, GameOverEvent):
            self.game_over = event
        if not isinstance(event, BeliefEvent) and event_text(event) is not None:
            self.transcript.append(event)
            del self.transcript[:-TRANSCRIPT_KEEP]

    def _seat(self, players: tuple[str, ...]) -> None:
        if self.viewer is not None and self.viewer not in players:
            raise UnknownPlayer(f"unknown player {self.viewer!r}; players: {', '.join(players)}")
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
