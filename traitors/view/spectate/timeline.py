"""An episode as one viewer steps through it: a cursor over the log, moved by event, phase or
round, and the board, transcript and model calls at the cursor.

The viewer (god, or one seat) can change at any time; a seat's board is always folded from
the events ``visible_to`` let that seat see, so switching views never carries anything over.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from traitors.game.board import Board, check_seat
from traitors.game.events import (
    ActEvent,
    BeliefEvent,
    Event,
    LogChannels,
    PhaseEvent,
    visible_to,
)
from traitors.game.words import Words
from traitors.view.spectate.meter import CallMeter


@dataclass
class _Fold:
    """The viewer's board folded up to ``done`` events of the log, with what folding needs."""

    board: Board
    done: int = 0
    membership: LogChannels = field(default_factory=LogChannels)
    decisions: dict[str, int] = field(default_factory=dict)
    """Seat -> actions applied so far (from the god-only act events)."""


class Timeline:
    """The log read so far, the viewer, and a cursor: how many events of the log are applied.

    The cursor only stops after an event the viewer sees on screen (a transcript line or a
    belief); ``step``, ``jump_phase`` and ``jump_round`` move it between those stops.
    """

    def __init__(self, words: Words, viewer: str | None = None) -> None:
        self.words = words
        self.events: list[Event] = []
        self.calls: list[dict[str, Any]] = []
        self.cursor = 0
        self.show_reasoning = True
        """Whether the transcript shows private reasoning (read by the view)."""
        self._viewer: str | None = None
        self._stops: list[int] = []
        """Log positions after each event the viewer sees on screen, in order."""
        self._membership = LogChannels()
        self._seats: tuple[str, ...] = ()
        self._fold: _Fold | None = None
        """The last ``board`` call's fold, continued when the cursor moves forward."""
        self.viewer = viewer

    # --- the log -------------------------------------------------------------------------

    @property
    def seats(self) -> tuple[str, ...]:
        """The players at the table (known once the first phase event is read)."""
        return self._seats

    def extend(self, events: Iterable[Event]) -> None:
        """Append newly read events; a cursor at the end stays at the end."""
        at_end = self.at_end
        for event in events:
            if not self._seats and isinstance(event, PhaseEvent):
                self._seats = event.alive
                self._check(self._viewer)
            self.events.append(event)
            self._add_stop(len(self.events))
        if at_end:
            self.cursor = self.end

    def add_calls(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Append model-call records (lines of ``calls.jsonl``)."""
        self.calls.extend(dict(record) for record in records)

    # --- the viewer ----------------------------------------------------------------------

    @property
    def viewer(self) -> str | None:
        """The seat whose view this is; None for the god view."""
        return self._viewer

    @viewer.setter
    def viewer(self, viewer: str | None) -> None:
        """Switch views, keeping the cursor at the same point of the game (raises
        UnknownPlayer for a seat not at the table)."""
        self._check(viewer)
        self._viewer = viewer
        self._fold = None
        self._membership = LogChannels()
        self._stops = []
        for position in range(1, len(self.events) + 1):
            self._add_stop(position)

    def _check(self, viewer: str | None) -> None:
        if self._seats:
            check_seat(viewer, self._seats)

    def _sees(self, event: Event, membership: LogChannels) -> bool:
        return self._viewer is None or visible_to(event, self._viewer, membership)

    def _add_stop(self, position: int) -> None:
        """Follow the log's event at ``position`` (1-based); a stop if the viewer sees it on
        screen."""
        event = self.events[position - 1]
        self._membership.update(event)
        if self._sees(event, self._membership) and (
            isinstance(event, BeliefEvent) or event.line_text(self.words) is not None
        ):
            self._stops.append(position)

    # --- moving --------------------------------------------------------------------------

    @property
    def end(self) -> int:
        """The cursor after the last event the viewer sees."""
        return self._stops[-1] if self._stops else 0

    @property
    def at_end(self) -> bool:
        """Whether every event read so far is applied."""
        return self.cursor >= self.end

    @property
    def position(self) -> tuple[int, int]:
        """(events on screen so far, events the viewer sees in the log read so far)."""
        return bisect_right(self._stops, self.cursor), len(self._stops)

    def step(self, steps: int = 1) -> None:
        """Move ``steps`` shown events forward (negative: back)."""
        if steps > 0:
            later = bisect_right(self._stops, self.cursor)  # index of the next stop
            if later < len(self._stops):
                self.cursor = self._stops[min(later + steps, len(self._stops)) - 1]
        elif steps < 0:
            earlier = bisect_left(self._stops, self.cursor)  # stops before the cursor
            self.cursor = self._stops[earlier + steps] if earlier + steps >= 0 else 0

    def seek(self, cursor: int) -> None:
        """Put the cursor at ``cursor`` events (clamped to the log)."""
        self.cursor = max(0, min(cursor, self.end))

    def jump_round(self, direction: int) -> None:
        """To the first shown event of the next (1) or this/previous (-1) round."""
        self._jump(direction, lambda event: (event.round,))

    def jump_phase(self, direction: int) -> None:
        """To the first shown event of the next (1) or this/previous (-1) phase."""
        self._jump(direction, lambda event: (event.round, event.phase))

    def _jump(self, direction: int, key: Callable[[Event], tuple[object, ...]]) -> None:
        starts: list[int] = []  # the stop of the first shown event of each (round[, phase])
        for stop in self._stops:
            if not starts or key(self.events[starts[-1] - 1]) != key(self.events[stop - 1]):
                starts.append(stop)
        if direction > 0:
            self.cursor = next((s for s in starts if s > self.cursor), self.cursor)
        else:
            self.cursor = next((s for s in reversed(starts) if s < self.cursor), 0)

    # --- what is on screen ---------------------------------------------------------------

    def board(self) -> Board:
        """The viewer's board with every shown event up to the cursor folded in (moving
        forward folds only the new events; moving back or switching views starts over)."""
        return self._folded().board

    def _folded(self) -> _Fold:
        fold = self._fold
        if fold is None or fold.done > self.cursor:
            fold = self._fold = _Fold(Board(self.words, self._viewer))
        for event in self.events[fold.done : self.cursor]:
            fold.membership.update(event)
            if isinstance(event, ActEvent) and event.actor is not None:
                fold.decisions[event.actor] = fold.decisions.get(event.actor, 0) + 1
            if self._sees(event, fold.membership):
                fold.board.update(event)
        fold.done = self.cursor
        return fold

    def calls_so_far(self) -> list[dict[str, Any]]:
        """The viewer's model calls (every call in the god view) up to the cursor: a seat's
        first k calls once k of its actions are applied (a repaired action's second call
        shows with the seat's next action)."""
        decisions = self._folded().decisions
        return [
            record
            for record in self.calls
            if (self._viewer is None or record.get("agent") == self._viewer)
            and int(record.get("index", 0)) < decisions.get(str(record.get("agent")), 0)
        ]

    def meter(self) -> CallMeter:
        """Totals of ``calls_so_far``."""
        meter = CallMeter(self._viewer)
        for record in self.calls_so_far():
            meter.add(record)
        return meter
