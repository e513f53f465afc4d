"""Avalon's referee: the winner from the log alone, and the secrets a player must not see."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from scenarios.avalon.kinds import (
    AssassinationEvent,
    MerlinBeliefEvent,
    QuestCardEvent,
    QuestResultEvent,
    TeamVoteEvent,
    TeamVoteResultEvent,
    VisionEvent,
)
from scenarios.avalon.state import AvalonState
from scenarios.avalon.table import (
    EVIL,
    FAIL,
    GOOD,
    MAX_REJECTIONS,
    MERLIN,
    MORDRED,
    MORGANA,
    PERCIVAL,
    WORDS,
    fails_needed,
)
from traitors.game.events import BeliefEvent, Event, GodOnly, RevealEvent, RoleEvent


def judge(events: Sequence[Event]) -> str | None:
    """The winner from the god's-eye log alone: quests from the cards played, team votes
    from the ballots, the assassination from the dealt roles."""
    roles = {e.player: e.role for e in events if isinstance(e, RoleEvent)}
    ballots: dict[tuple[int, int], list[bool]] = defaultdict(list)
    cards: dict[int, list[str]] = defaultdict(list)
    quests: list[bool] = []
    in_a_row = 0
    for event in events:
        if isinstance(event, TeamVoteEvent):
            ballots[(event.round, event.attempt)].append(event.approve)
        elif isinstance(event, TeamVoteResultEvent):
            votes = ballots[(event.round, event.attempt)]
            in_a_row = 0 if sum(votes) * 2 > len(votes) else in_a_row + 1
            if in_a_row >= MAX_REJECTIONS:
                return EVIL
        elif isinstance(event, QuestCardEvent):
            cards[event.round].append(event.card)
        elif isinstance(event, QuestResultEvent):
            fails = cards[event.round].count(FAIL)
            quests.append(fails < fails_needed(len(roles), event.round))
            in_a_row = 0
            if quests.count(False) >= 3:
                return EVIL
        elif isinstance(event, AssassinationEvent):
            return EVIL if roles.get(event.target) == MERLIN else GOOD
    return None


def audit(state: AvalonState, event: Event, viewer: str) -> str | None:
    """The game's secrets: roles, visions, quest cards and the probes of each player."""
    if isinstance(event.visibility, GodOnly):
        return "god-only event shown to a player"
    if isinstance(event, RoleEvent):
        return _audit_role(state, event, viewer)
    if isinstance(event, VisionEvent):
        return _audit_vision(state, event, viewer)
    if isinstance(event, QuestCardEvent) and event.actor != viewer:
        return f"{event.actor}'s quest card shown to {viewer}"
    if isinstance(event, BeliefEvent | MerlinBeliefEvent) and event.actor != viewer:
        return f"{event.actor}'s private probe shown to {viewer}"
    if isinstance(event, MerlinBeliefEvent) and viewer not in state.evil():
        return "a Merlin probe asked of a good player"
    if isinstance(event, RevealEvent) and state.result is None:
        return f"role of {event.player} revealed before the game ended"
    return None


def _audit_role(state: AvalonState, event: RoleEvent, viewer: str) -> str | None:
    if event.player != viewer:
        return f"role of {event.player} shown to {viewer}"
    expected = set(state.known_allies(viewer))
    if set(event.allies) != expected:
        return f"{viewer} told of allies {list(event.allies)}, knows {sorted(expected)}"
    return None


def _audit_vision(state: AvalonState, event: VisionEvent, viewer: str) -> str | None:
    if event.player != viewer:
        return f"{event.player}'s vision shown to {viewer}"
    role = state.roles[viewer]
    seen = {state.roles[p] for p in event.seen}
    if role == MERLIN and (MORDRED in seen or any(WORDS.roles[r] != EVIL for r in seen)):
        return f"Merlin shown {sorted(seen)}"
    if role == PERCIVAL and not seen <= {MERLIN, MORGANA}:
        return f"Percival shown {sorted(seen)}"
    if role not in (MERLIN, PERCIVAL):
        return f"a {role} given a vision"
    return None
