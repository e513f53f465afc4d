"""``traitors run --live``: an episode observer drawing the running episode in the watch view."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from traitors.game.events import Event, GameOverEvent
from traitors.game.rules import GameState
from traitors.game.words import Words
from traitors.store.log import EVENTS
from traitors.view.spectate.display import Display, make_display
from traitors.view.spectate.runs import is_episode_dir
from traitors.view.spectate.tail import EpisodeTail
from traitors.view.spectate.view import Spectator


def running_episode(out_dir: Path) -> Path | None:
    """The episode directory under ``out_dir`` written to most recently, if any."""
    episodes = [p for p in out_dir.iterdir() if p.is_dir() and is_episode_dir(p)]
    return max(episodes, key=lambda p: (p / EVENTS).stat().st_mtime, default=None)


class LiveObserver:
    """Shows each episode as it is played (god view); model calls are read from the episode's
    ``calls.jsonl`` under ``out_dir`` when given. Plain lines when output is not a terminal.

    Use it as a context manager around the run, so a run that raises mid-episode still
    restores the terminal.
    """

    def __init__(self, console: Console, words: Words, out_dir: Path | None = None) -> None:
        self.console = console
        self.words = words
        self.out_dir = out_dir
        self._spectator = Spectator(words)
        self._display: Display | None = None
        self._calls: EpisodeTail | None = None

    def on_event(self, event: Event, state: GameState) -> None:
        if event.seq == 0:
            self._end()
            self._begin()
        assert self._display is not None
        if self._calls is not None:
            self._spectator.add_calls(self._calls.calls())
        self._spectator.board.update(event)
        self._display.show(event)
        if isinstance(event, GameOverEvent):
            self._end()

    def on_decision(self, *args: object) -> None:
        """Decisions show up as the events they cause."""

    def __enter__(self) -> LiveObserver:
        return self

    def __exit__(self, *exc: object) -> None:
        self._end()

    def _end(self) -> None:
        if self._display is not None:
            self._display.close()
            self._display = None

    def _begin(self) -> None:
        directory = running_episode(self.out_dir) if self.out_dir is not None else None
        self._spectator = Spectator(self.words, None, directory.name if directory else "live")
        self._calls = EpisodeTail(directory) if directory else None
        self._display = make_display(self.console, self._spectator)
