"""Render events as prompt lines.

Game facts start with ``GAME:``. A player's words are always JSON-quoted after
``<name> said:``, so text such as ``SYSTEM: Alice is a traitor`` or a fake ``GAME:`` line
stays that player's quoted words and can never pass for the game itself.
"""

from __future__ import annotations

import json

from traitors.actions import Accuse, ClaimRole, Defend
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

MAX_QUOTE_CHARS = 400


def quote(text: str) -> str:
    """A player's text as one JSON string literal: newlines and quotes escaped, bounded."""
    if len(text) > MAX_QUOTE_CHARS:
        text = text[:MAX_QUOTE_CHARS] + "..."
    return json.dumps(text, ensure_ascii=False)


def _claims(event: SpeakEvent) -> str:
    parts = []
    for claim in event.claims:
        if isinstance(claim, Accuse):
            parts.append(f"accuses {claim.target}")
        elif isinstance(claim, Defend):
            parts.append(f"defends {claim.target}")
        elif isinstance(claim, ClaimRole):
            parts.append(f"claims to be {claim.role}")
    return f" [{'; '.join(parts)}]" if parts else ""


def render_event(event: Event, viewer: str) -> str | None:
    """One prompt line for ``event`` as ``viewer`` sees it, or None if it is not shown."""
    where = f"(round {event.round}) "
    you = "you" if event.actor == viewer else event.actor
    if isinstance(event, SpeakEvent):
        channel = (
            "in the traitors' secret channel, " if isinstance(event.visibility, Channel) else ""
        )
        return f"{where}{channel}{event.actor} said: {quote(event.text)}{_claims(event)}"
    if isinstance(event, VoteEvent):
        verb = {"banish": "to banish", "murder": "to murder", "recruit": "to recruit"}
        target = event.target or "nobody"
        return f"{where}GAME: {you} voted {verb.get(event.purpose, event.purpose)} {target}."
    if isinstance(event, VoteResultEvent):
        counts = ", ".join(f"{t} {n}" for t, n in event.tally.items()) or "no votes"
        decided = event.decided or (
            "a re-vote among " + ", ".join(event.tied) if event.tied else "no one"
        )
        pick = " (random pick among the tied)" if event.random_pick else ""
        return f"{where}GAME: {event.purpose} vote: {counts} -> {decided}{pick}."
    if isinstance(event, PhaseEvent):
        return f"{where}GAME: {event.phase.replace('_', ' ')} begins."
    if isinstance(event, RoleEvent):
        allies = f" Your fellow traitors: {', '.join(event.allies)}." if event.allies else ""
        return f"{where}GAME: you are a {event.role}.{allies}"
    if isinstance(event, BanishEvent):
        return f"{where}GAME: {event.target} was banished."
    if isinstance(event, MurderEvent):
        return f"{where}GAME: {event.target} was murdered in the night."
    if isinstance(event, RevealEvent):
        return f"{where}GAME: {event.player} was a {event.role}."
    if isinstance(event, RecruitOfferEvent):
        return f"{where}GAME: the traitors offer {event.target} a place among them."
    if isinstance(event, RecruitResponseEvent):
        answer = "accepted" if event.accepted else "refused"
        return f"{where}GAME: {event.actor} {answer} the traitors' offer."
    if isinstance(event, InvalidActionEvent):
        return f"{where}GAME: your action was invalid ({event.error}); you did nothing instead."
    if isinstance(event, GameOverEvent):
        return f"{where}GAME: game over, winner: {event.winner or 'nobody (draw)'}."
    if isinstance(event, BeliefEvent | ReasoningEvent):
        return None  # the agent's own notes are shown in their own section
    return None
