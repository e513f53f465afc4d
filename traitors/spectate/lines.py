"""Plain one-line renderings of events (god view), printed as an episode runs."""

from __future__ import annotations

import sys
from typing import TextIO

from traitors.actions import Accuse, ClaimRole
from traitors.events import (
    BanishEvent,
    BeliefEvent,
    Channel,
    Event,
    GameOverEvent,
    InvalidActionEvent,
    MurderEvent,
    PhaseEvent,
    ReasoningEvent,
    RecruitOfferEvent,
    RecruitResponseEvent,
    RevealEvent,
    RoleEvent,
    SpeakEvent,
    VoteEvent,
    VoteResultEvent,
)
from traitors.rules import GameState


def _claims(event: SpeakEvent) -> str:
    parts = []
    for claim in event.claims:
        if isinstance(claim, ClaimRole):
            parts.append(f"claims {claim.role}")
        else:
            verb = "accuses" if isinstance(claim, Accuse) else "defends"
            parts.append(f"{verb} {claim.target}")
    return f"  [{'; '.join(parts)}]" if parts else ""


def format_line(event: Event) -> str | None:
    """A short god-view line for an event, or None for events not worth a line."""
    head = f"r{event.round} {event.phase:<14}"
    if isinstance(event, SpeakEvent):
        where = " (traitors)" if isinstance(event.visibility, Channel) else ""
        return f"{head} {event.actor}{where}: {event.text}{_claims(event)}"
    if isinstance(event, VoteEvent):
        return f"{head} {event.actor} votes {event.purpose} -> {event.target or 'abstains'}"
    if isinstance(event, VoteResultEvent):
        tally = ", ".join(f"{t} {n}" for t, n in event.tally.items())
        outcome = event.decided or ("tie: " + ", ".join(event.tied) if event.tied else "none")
        return f"{head} {event.purpose} result: {tally} => {outcome}"
    if isinstance(event, BanishEvent):
        return f"{head} ** {event.target} is banished"
    if isinstance(event, MurderEvent):
        return f"{head} ** {event.target} was murdered"
    if isinstance(event, RevealEvent):
        return f"{head} ** {event.player} was a {event.role}"
    if isinstance(event, RoleEvent):
        allies = f" (allies: {', '.join(event.allies)})" if event.allies else ""
        return f"{head} {event.player} is {event.role}{allies}"
    if isinstance(event, BeliefEvent):
        probs = ", ".join(f"{p} {v:.2f}" for p, v in event.probs.items())
        return f"{head} {event.actor} believes P(traitor): {probs or '-'}"
    if isinstance(event, ReasoningEvent):
        return f"{head} {event.actor} thinks: {event.text}"
    if isinstance(event, InvalidActionEvent):
        return f"{head} {event.actor} invalid action ({event.error}); applied {event.applied}"
    if isinstance(event, RecruitOfferEvent):
        return f"{head} traitors offer {event.target} to join"
    if isinstance(event, RecruitResponseEvent):
        return f"{head} {event.actor} {'accepts' if event.accepted else 'refuses'}"
    if isinstance(event, GameOverEvent):
        return f"{head} GAME OVER: {event.winner or 'draw'} ({event.reason})"
    if isinstance(event, PhaseEvent) and event.phase in ("breakfast", "setup"):
        return f"{head} -- alive: {', '.join(event.alive)}"
    return None


class LinePrinter:
    """An episode observer printing each event as a line as soon as it happens."""

    def __init__(self, out: TextIO | None = None, prefix: str = "") -> None:
        self.out = out
        self.prefix = prefix

    def on_event(self, event: Event, state: GameState) -> None:
        line = format_line(event)
        if line is not None:
            print(f"{self.prefix}{line}", file=self.out or sys.stdout, flush=True)

    def on_decision(self, *args: object) -> None:
        """Decisions show up as the events they cause."""
