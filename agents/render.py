"""Render events as an agent's prompt lines.

Each event renders itself (``prompt_text``) in its scenario's words: game facts start with
``GAME:``, and a player's words are always JSON-quoted after ``<name> said:``, so text such
as ``SYSTEM: Alice is a traitor`` or a fake ``GAME:`` line stays that player's quoted words.
A prompt groups the lines of a round under one ``Round N:`` line (``render_history``)
instead of repeating the round on every line.
"""

from __future__ import annotations

from collections.abc import Iterable

from traitors.game.events import Event
from traitors.game.words import Words


def render_event(event: Event, viewer: str, words: Words) -> str | None:
    """One prompt line for ``event`` as ``viewer`` sees it, or None if it is not shown."""
    return event.prompt_text(viewer, words)


def render_history(lines: Iterable[tuple[int, str]]) -> list[str]:
    """``(round, line)`` pairs as prompt lines, each round's opened by ``Round N:``."""
    out: list[str] = []
    current = None
    for round_no, line in lines:
        if round_no != current:
            out.append(f"Round {round_no}:")
            current = round_no
        out.append(line)
    return out
