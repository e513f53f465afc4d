"""An LLM agent's bounded memory: lessons, notes, its estimates, recent events.

The prompt stays bounded as the game grows: the agent writes private notes at the end of
each round, the events its notes cover are in time left out of its prompts, and at least
the last ``recent`` events are always shown verbatim.

The memory is laid out for prompt caching: a seat's successive prompts share a long prefix
(served from a provider's prompt cache, or a local model's KV cache), because what changes
least comes first and a turn's news comes last. In order: the lessons (the whole game), the
notes that cover the events left out and what those events left standing (who was gone,
the agent's latest estimates), then the events since, which only grow at the end, and last
the round, who is alive and the request. New notes are appended where they were written,
like an event; eliminations and the agent's own estimates appear as lines where they
happened. The part in front of the events changes only when the window of shown events
moves, and it moves ``block`` events at once rather than one at a time (which would change
the prefix at every turn): when the shown events reach ``recent + block``, the window drops
what the newest notes cover or, if they cover nothing more, a block of events. So most
turns only append, and a decision shows between ``recent`` and ``recent + block - 1`` events
(all of them while there are fewer), never fewer than the last ``recent`` a sliding window
would show. A call that writes notes or lessons leaves the window where it is: no later
prompt extends it, and the next decision moves the window if it must.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from agents.render import render_event, render_history
from traitors.episode.policy import Observation
from traitors.game.events import BeliefEvent, EliminationEvent, Event, RevealEvent
from traitors.game.words import NEUTRAL, Words

DEFAULT_RECENT_EVENTS = 20
BLOCK_EVENTS: int | None = None
"""How many events the window moves at once when a memory sets no ``block`` (None: its
``recent``); a benchmark may set it to compare sizes."""


@dataclass(frozen=True)
class Notes:
    """Notes the agent wrote about the game so far."""

    round: int
    """The last round they cover."""
    seen: int
    """How many events the agent had seen when it wrote them."""
    text: str


@dataclass
class Memory:
    """What the agent carries from call to call."""

    words: Words = NEUTRAL
    """The scenario's words."""
    recent: int = DEFAULT_RECENT_EVENTS
    """How many of the latest visible events are shown verbatim, at least."""
    lessons: str = ""
    """Lessons carried over from earlier episodes (``memory: persist``)."""
    noted_round: int = 0
    """The last round the agent wrote notes about (or tried to)."""
    beliefs: dict[str, float] = field(default_factory=dict)
    """The agent's latest private P(hidden side) estimates."""
    block: int | None = None
    """How many events the window of shown events moves at once (default: ``BLOCK_EVENTS``,
    else ``recent``)."""
    written: list[Notes] = field(default_factory=list)
    """Every note written, oldest first."""
    front: Notes | None = None
    """The notes shown before the events: the events they cover are left out."""
    start: int = 0
    """How many of the lines after the front notes the last prompt left out."""

    @property
    def notes(self) -> str:
        """The latest notes ("" before any)."""
        return self.written[-1].text if self.written else ""

    def write_notes(self, text: str, round_no: int, seen: int) -> None:
        """Keep notes written about rounds up to ``round_no`` after ``seen`` events."""
        self.noted_round = round_no
        if text:
            self.written.append(Notes(round_no, seen, text))

    def digest(self, observation: Observation, move: bool = True) -> str:
        """The memory section of a prompt, from the most to the least stable part.

        ``move=False`` keeps the window where it is (for a one-off call, such as writing
        notes, whose prompt no later one extends: the next decision moves it)."""
        self._update_beliefs(observation)
        events = observation.events
        viewer = observation.agent
        history = self.history(events, viewer)
        newest = self.written[-1] if self.written else None
        full = len(history) >= self.recent + self._block()
        if move and full and newest is not self.front:
            self.front = newest
            history = self.history(events, viewer)
        start = self.window_start(len(history)) if move else self.start
        self.start = start
        covered = self.front.round if self.front else 0
        first = next((i for i, e in enumerate(events) if e.round > covered), len(events))
        if start:
            first = history[start][0]
        sections = []
        if self.lessons:
            sections.append(f"Lessons you wrote after earlier games:\n{self.lessons}")
        if self.front:
            sections.append(f"Your private notes (up to round {covered}):\n{self.front.text}")
        if known := self.known_before(events[:first], viewer):
            sections.append(known)
        header = "What happened since your notes" if self.front else "What happened so far"
        lines = render_history((round_no, line) for _, round_no, line in history[start:])
        if start:
            lines.insert(0, f"({start} earlier events are left out.)")
        sections.append(f"{header} (oldest first):\n" + "\n".join(lines))
        sections.append(
            f"Round {observation.round}. You are {viewer}. Alive: {', '.join(observation.alive)}."
        )
        return "\n\n".join(sections)

    def history(self, events: Sequence[Event], viewer: str) -> list[tuple[int, int, str]]:
        """(index of the next event, round, line) of everything after the front notes: the
        events' lines and the notes written since."""
        covered = self.front.round if self.front else 0
        pending = [n for n in self.written if n.round > covered]
        out: list[tuple[int, int, str]] = []
        for index, event in enumerate(events):
            while pending and pending[0].seen <= index:
                out.append(self._notes_line(pending.pop(0)))
            if event.round > covered and (line := self.line(event, viewer)):
                out.append((index, event.round, line))
        out += [self._notes_line(n) for n in pending]
        return out

    def line(self, event: Event, viewer: str) -> str | None:
        """An event's line in this agent's history: as it renders itself, and the agent's
        own estimates where it made them."""
        if isinstance(event, BeliefEvent):
            return self._estimates(event) if event.actor == viewer else None
        return render_event(event, viewer, self.words)

    def window_start(self, count: int) -> int:
        """The first of ``count`` lines to show: a multiple of ``block`` that leaves at
        least ``recent`` of them (all when there are fewer)."""
        return max(0, count - self.recent) // self._block() * self._block()

    def known_before(self, events: Sequence[Event], viewer: str) -> str:
        """What the events before the shown ones left standing: who was gone and how, and
        the agent's latest estimates ("" when neither)."""
        fates: dict[str, str] = {}
        latest = None
        for event in events:
            if isinstance(event, EliminationEvent):
                fates[event.target] = self.words.elimination(event.cause)
            elif isinstance(event, RevealEvent) and event.player in fates:
                fates[event.player] += f", was a {event.role}"
            elif isinstance(event, BeliefEvent) and event.actor == viewer:
                latest = event
        lines = []
        if fates:
            gone = "; ".join(f"{p} ({fate})" for p, fate in fates.items())
            lines.append(f"Gone before the events below: {gone}.")
        if latest is not None:
            lines.append(self._estimates(latest, "latest "))
        return "\n".join(lines)

    def _block(self) -> int:
        return self.block or BLOCK_EVENTS or self.recent

    def _notes_line(self, notes: Notes) -> tuple[int, int, str]:
        text = json.dumps(notes.text, ensure_ascii=False)
        return notes.seen, notes.round + 1, f"Your private notes after round {notes.round}: {text}"

    def _estimates(self, event: BeliefEvent, latest: str = "") -> str:
        estimates = ", ".join(f"{p} {v:.2f}" for p, v in event.probs.items())
        return f"Your {latest}private estimates of P({self.words.suspect}): {estimates}"

    def _update_beliefs(self, observation: Observation) -> None:
        for event in reversed(observation.events):
            if isinstance(event, BeliefEvent) and event.actor == observation.agent:
                self.beliefs = dict(event.probs)
                return
