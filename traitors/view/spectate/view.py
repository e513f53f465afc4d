"""A spectator: one view (god, or one player's) of one episode, fed from its log."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rich.layout import Layout

from traitors.game.board import Board
from traitors.game.events import Event, player_view
from traitors.game.words import NEUTRAL, Words
from traitors.store.log import read_manifest
from traitors.view.spectate.meter import CallMeter
from traitors.view.spectate.panels import render_view
from traitors.view.spectate.tail import EpisodeTail


def episode_words(directory: Path) -> Words:
    """The words of the episode's scenario, from its manifest (neutral ones if it has none)."""
    manifest = read_manifest(directory)
    return NEUTRAL if manifest is None else manifest.scenario_words()


class Spectator:
    """What one viewer may see of an episode, what they have seen so far, and its rendering.

    In a player view every event goes through ``player_view`` and only the player's own
    model calls are counted.
    """

    def __init__(self, words: Words, viewer: str | None = None, title: str = "") -> None:
        self.viewer = viewer
        self.title = title
        self.board = Board(words, viewer)
        self.meter = CallMeter(viewer)
        self._log: list[Event] = []
        self._shown = 0

    def visible(self, events: Sequence[Event]) -> list[Event]:
        """The events of this new batch of the log that the viewer may see, in order."""
        if self.viewer is None:
            return list(events)
        self._log.extend(events)
        seen = player_view(self._log, self.viewer)
        new, self._shown = seen[self._shown :], len(seen)
        return new

    def add_calls(self, records: Iterable[dict[str, Any]]) -> None:
        """Count model-call records (lines of ``calls.jsonl``)."""
        for record in records:
            self.meter.add(record)

    def render(self) -> Layout:
        """The rich view of everything seen so far."""
        return render_view(self.board, self.meter, self.title)

    @classmethod
    def of_episode(cls, directory: Path, viewer: str | None = None) -> Spectator:
        """A spectator that has seen everything written so far in ``directory``."""
        spectator = cls(episode_words(directory), viewer, directory.name)
        tail = EpisodeTail(directory)
        spectator.add_calls(tail.calls())
        for event in spectator.visible(tail.events()):
            spectator.board.update(event)
        return spectator
