"""Where the interactive view reads an episode from: its directory, as it is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from traitors.game.events import Event
from traitors.store.log import ERROR
from traitors.view.spectate.tail import EpisodeTail
from traitors.view.spectate.timeline import Timeline
from traitors.view.spectate.view import episode_words


class EpisodeFeed:
    """One episode directory, read a batch of new lines at a time into a ``Timeline``."""

    def __init__(self, directory: Path, viewer: str | None = None) -> None:
        self.directory = directory
        self.timeline = Timeline(episode_words(directory))
        self.timeline.viewer = viewer
        self.finished = False
        """True once the episode has ended and every line of it has been read."""
        self._tail = EpisodeTail(directory)

    @property
    def failed(self) -> bool:
        """Whether the episode stopped on an error (``error.txt``)."""
        return (self.directory / ERROR).is_file()

    def read(self) -> bool:
        """Fold in what was written since the last read (LogError names a damaged line);
        True if anything new came."""
        if self.finished:
            return False
        ended = self._tail.finished()  # checked before reading: the last read drains all
        calls: list[dict[str, Any]] = self._tail.calls()
        events: list[Event] = self._tail.events(last=ended)
        self.timeline.add_calls(calls)
        self.timeline.extend(events)
        self.finished = ended
        return bool(events or calls)
