"""Plain one-line renderings of events, printed as an episode runs or is watched."""

from __future__ import annotations

import sys
from typing import TextIO

from traitors.actions import Accuse, ClaimRole
from traitors.events import (
    BanishEvent,
    BeliefEvent,
    BidEvent,
    Channel,
    Direct,
    Event,
    GameOverEvent,
    GodOnly,
    InvalidActionEvent,
    MurderEvent,
    PhaseEvent,
    Private,
    PurchaseEvent,
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


def marker(event: Event) -> str:
    """Who may see a non-public event: ``[traitors]``, ``[private]``, ``[to A, B]``, ``[god]``."""
    vis = event.visibility
    if isinstance(vis, Channel):
        return f"[{vis.name}]"
    if isinstance(vis, Private):
        return "[private]"
    if isinstance(vis, Direct):
        return f"[to {', '.join(vis.recipients)}]"
    if isinstance(vis, GodOnly):
        return "[god]"
    return ""


def event_text(event: Event) -> str | None:
    """What an event says, without round, phase or marker; None for events not worth a line."""
    if isinstance(event, SpeakEvent):
        return f"{event.actor}: {event.text}{_claims(event)}"
    if isinstance(event, VoteEvent):
        return f"{event.actor} votes {event.purpose} -> {event.target or 'abstains'}"
    if isinstance(event, VoteResultEvent):
        tally = ", ".join(f"{t} {n}" for t, n in event.tally.items())
        outcome = event.decided or ("tie: " + ", ".join(event.tied) if event.tied else "none")
        return f"{event.purpose} result: {tally} => {outcome}"
    if isinstance(event, BanishEvent):
        return f"** {event.target} is banished"
    if isinstance(event, MurderEvent):
        return f"** {event.target} was murdered"
    if isinstance(event, RevealEvent):
        return f"** {event.player} was a {event.role}"
    if isinstance(event, RoleEvent):
        allies = f" (allies: {', '.join(event.allies)})" if event.allies else ""
        return f"{event.player} is {event.role}{allies}"
    if isinstance(event, BeliefEvent):
        probs = ", ".join(f"{p} {v:.2f}" for p, v in event.probs.items())
        return f"{event.actor} believes P(traitor): {probs or '-'}"
    if isinstance(event, ReasoningEvent):
        return f"{event.actor} thinks: {event.text}"
    if isinstance(event, InvalidActionEvent):
        return f"{event.actor} invalid action ({event.error}); applied {event.applied}"
    if isinstance(event, RecruitOfferEvent):
        return f"traitors offer {event.target} to join"
    if isinstance(event, RecruitResponseEvent):
        return f"{event.actor} {'accepts' if event.accepted else 'refuses'}"
    if isinstance(event, BidEvent):
        return f"{event.actor} bids {event.amount}"
    if isinstance(event, PurchaseEvent):
        return f"{event.actor} buys {event.item}"
    if isinstance(event, GameOverEvent):
        return f"GAME OVER: {event.winner or 'draw'} ({event.reason})"
    if isinstance(event, PhaseEvent) and event.phase in ("breakfast", "setup"):
        return f"-- alive: {', '.join(event.alive)}"
    return None


def format_line(event: Event) -> str | None:
    """A short line for an event (round, phase, visibility marker, text), or None."""
    text = event_text(event)
    if text is None:
        return None
    tag = marker(event)
    return f"r{event.round} {event.phase:<14} {tag + ' ' if tag else ''}{text}"


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
