"""Where a spectator's view goes: a live rich layout in a terminal, plain lines otherwise."""

from __future__ import annotations

import time
from typing import Protocol

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.live import Live

from traitors.game.events import Event
from traitors.game.lines import format_line
from traitors.game.words import Words
from traitors.view.spectate.view import Spectator

FRAMES_PER_SECOND = 10


class Display(Protocol):
    """Shows a spectator's events as they are folded in."""

    def show(self, event: Event) -> None:
        """``event`` was just added to the spectator's board."""

    def refresh(self) -> None:
        """Bring the display up to date (e.g. after new model calls)."""

    def close(self) -> None:
        """Leave the final state on screen."""


class LineDisplay:
    """One plain line per event: for pipes, files and dumb terminals."""

    def __init__(self, console: Console, words: Words) -> None:
        self.console = console
        self.words = words

    def show(self, event: Event) -> None:
        line = format_line(event, self.words)
        if line is not None:
            self.console.print(line, markup=False, highlight=False, soft_wrap=True)
            self.console.file.flush()

    def refresh(self) -> None:
        """Lines are printed as events come."""

    def close(self) -> None:
        """Nothing is held back."""


class LiveDisplay:
    """The full rich layout, redrawn at most ``FRAMES_PER_SECOND`` times a second."""

    def __init__(self, console: Console, spectator: Spectator) -> None:
        self.console = console
        self.spectator = spectator
        self._live = Live(console=console, auto_refresh=False, get_renderable=self._frame)
        self._started = False
        self._drawn = 0.0

    def show(self, event: Event) -> None:
        if time.monotonic() - self._drawn >= 1 / FRAMES_PER_SECOND:
            self.refresh()

    def refresh(self) -> None:
        if not self.spectator.board.seats:
            return  # nothing to draw before the first event
        if not self._started:
            self._live.start()
            self._started = True
        self._live.refresh()
        self._drawn = time.monotonic()

    def close(self) -> None:
        if self._started:
            self.refresh()
            self._live.stop()

    def _frame(self) -> RenderableType:
        """The view, one line short of the terminal so drawing it never scrolls."""
        return Fit(self.spectator.render(), self.console.height - 1)


class Fit:
    """Renders its content at a fixed height (a Layout otherwise takes the whole console)."""

    def __init__(self, renderable: RenderableType, height: int) -> None:
        self.renderable = renderable
        self.height = height

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from console.render(self.renderable, options.update(height=self.height))


def make_display(console: Console, spectator: Spectator) -> Display:
    """A live layout when ``console`` is a terminal, plain lines when it is not."""
    if console.is_terminal:
        return LiveDisplay(console, spectator)
    return LineDisplay(console, spectator.board.words)
