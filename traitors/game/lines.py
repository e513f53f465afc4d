"""Plain one-line renderings of events, printed as an episode runs or is watched.

What an event says comes from the event itself (``line_text``), in its scenario's words.
"""

from __future__ import annotations

import sys
from typing import TextIO

from traitors.game.events import Channel, Direct, Event, GodOnly, Private
from traitors.game.rules import GameState
from traitors.game.words import Words
from traitors.util.text import continued, printable


def marker(event: Event) -> str:
    """Who may see a non-public event: ``[<channel>]``, ``[private]``, ``[to A, B]``, ``[god]``."""
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


def format_line(event: Event, words: Words) -> str | None:
    """A short line for an event (round, phase, visibility marker, text), or None.

    Player text is shown literally: control characters as escapes, and lines after the first
    indented under the text, so no speech can pass for a line of the game.
    """
    text = event.line_text(words)
    if text is None:
        return None
    tag = marker(event)
    head = printable(f"r{event.round} {event.phase:<14} {tag + ' ' if tag else ''}")
    return head + continued(printable(text), len(head))


class LinePrinter:
    """An episode observer printing each event as a line as soon as it happens."""

    def __init__(self, words: Words, out: TextIO | None = None, prefix: str = "") -> None:
        self.words = words
        self.out = out
        self.prefix = prefix

    def on_event(self, event: Event, state: GameState) -> None:
        line = format_line(event, self.words)
        if line is not None:
            print(f"{self.prefix}{line}", file=self.out or sys.stdout, flush=True)

    def on_decision(self, *args: object) -> None:
        """Decisions show up as the events they cause."""
