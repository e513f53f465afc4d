"""Seats played back from a log: what a person answered, answered again without them.

A recorded episode holds every seat's decisions (reasoning, notes, invalid attempt, the
action applied). ``RecordedPolicy`` answers a seat's requests with them in order, so an
episode with a human seat, or a game played elsewhere and imported (policy ``imported``),
can be replayed, or restored for a fork, with no one at the keyboard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from traitors.episode.policy import Decision, Observation, Policy, SeatContext
from traitors.game import registry
from traitors.game.actions import ActionRequest
from traitors.game.events import ActEvent, EventBase, InvalidActionEvent, ReasoningEvent
from traitors.store.log import EpisodeLog


def recorded_moves(events: Iterable[EventBase]) -> dict[str, list[Decision]]:
    """Each seat's moves in the order it made them, as the core recorded them."""
    moves: dict[str, list[Decision]] = {}
    reasoning: dict[str, str] = {}
    notes: dict[str, list[EventBase]] = {}
    invalid: dict[str, InvalidActionEvent] = {}
    for event in events:
        agent = event.actor or ""
        if isinstance(event, ReasoningEvent):
            reasoning[agent] = event.text
        elif event.note:
            notes.setdefault(agent, []).append(event)
        elif isinstance(event, InvalidActionEvent):
            invalid[agent] = event
        elif isinstance(event, ActEvent):
            failed = invalid.pop(agent, None)
            moves.setdefault(agent, []).append(
                Decision(
                    None if failed else event.action,
                    failed.error if failed else None,
                    failed.attempted if failed else None,
                    reasoning.pop(agent, None),
                    notes=tuple(notes.pop(agent, ())),
                )
            )
    return moves


class RecordedPolicy:
    """Answers one seat's requests with the moves recorded for it, in order."""

    def __init__(self, seat: str, moves: list[Decision]) -> None:
        self.seat = seat
        self.moves = moves
        self._next = 0

    async def decide(self, observation: Observation, request: ActionRequest) -> Decision:
        """The seat's next recorded move (the same one again on a repair turn)."""
        if request.error is None:
            self._next += 1
        if self._next > len(self.moves):
            raise LookupError(f"{self.seat}: the recording holds only {len(self.moves)} moves")
        move = self.moves[self._next - 1]
        return move


class PlayedElsewhere:
    """The policy ``imported``: the seats of a game played elsewhere (``traitors import``).
    No one can be asked again: replays and fork prefixes play them from the log."""

    replayable: ClassVar[bool] = False

    @classmethod
    def create(cls, context: SeatContext) -> Policy:
        """Refused: the seat's player is not here."""
        raise ValueError(
            f"seat {context.seat}: policy 'imported' was played elsewhere and can only be "
            "replayed from its log; fork it with --set agents.<layer>.policy=..."
        )


def replayable(agent: Mapping[str, Any]) -> bool:
    """Whether a seat with these (manifest) agent settings can be asked again (not a
    person, nor a player elsewhere, nor a policy not installed here, such as an
    imported game's own agents)."""
    try:
        factory = registry.lookup("policy", agent.get("policy") or "heuristic")
    except registry.UnknownName:
        return False
    return bool(getattr(factory, "replayable", True))


def played_from_log(log: EpisodeLog) -> dict[str, Policy]:
    """A ``RecordedPolicy`` for each seat of ``log`` that cannot be asked again."""
    seats = [seat for seat, agent in log.manifest.agents.items() if not replayable(agent)]
    if not seats:
        return {}
    moves = recorded_moves(log.events)
    return {seat: RecordedPolicy(seat, moves.get(seat, [])) for seat in seats}
