"""``traitors play`` in the interactive view: the seat's eyes only, and a line to answer in.

The game runs in a thread (``background.run_beside``); the human seat's terminal
(``AppSeat``) hands its questions to the app and waits for the typed answer. The view is
locked to the seat: it is folded only from the events that seat saw.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, RichLog

from traitors.episode.policy import Observation
from traitors.util.text import printable
from traitors.view.spectate.app import WatchApp

CLOSED = None
"""Put in the answer queue when the view closes: the seat's input has ended."""


class PlayApp(WatchApp):
    """The watch view of one seat, with the seat's messages and an answer line."""

    CSS = (
        WatchApp.CSS
        + """
    #seat-log { height: 8; border: round $accent; }
    """
    )

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave_answer", "view keys", show=False),
        Binding("a", "answer", "answer"),
    ]

    def __init__(self, directory: Path, seat: str) -> None:
        super().__init__(None, viewer=seat, views=(seat,), speed=None)
        self.seat = seat
        self.episode_dir = directory
        self.answers: queue.Queue[str | None] = queue.Queue()
        self.ready = threading.Event()
        """Set once the app runs: the game's thread waits for it before its first line."""

    def compose(self) -> ComposeResult:
        yield from super().compose()
        log = RichLog(id="seat-log", wrap=True)
        log.border_title = f"{self.seat}'s seat"
        yield log
        hint = "your answer (Enter sends; Esc: the view's keys, a: back to answering)"
        yield Input(id="answer", placeholder=hint, disabled=True)

    def say(self, text: str, style: str = "") -> None:
        """A line of the seat's terminal, shown literally."""
        if self.feed is None:
            self.open_episode(self.episode_dir)
        self.query_one("#seat-log", RichLog).write(Text(printable(text), style=style))

    def ask(self, prompt: str) -> None:
        """Show ``prompt`` and open the answer line."""
        self.say(f"{prompt}>", "bold")
        self._read()  # show what happened up to this question
        answer = self.query_one("#answer", Input)
        answer.disabled = False
        answer.focus()

    def action_leave_answer(self) -> None:
        self.set_focus(None)

    def action_answer(self) -> None:
        answer = self.query_one("#answer", Input)
        if not answer.disabled:
            answer.focus()

    def on_input_submitted(self, message: Input.Submitted) -> None:
        message.input.value = ""
        message.input.disabled = True
        self.say(message.value)
        self.answers.put(message.value)

    def on_ready(self) -> None:
        self.ready.set()

    def on_unmount(self) -> None:
        self.answers.put(CLOSED)


class AppSeat:
    """The human seat's terminal (``SeatTerminal``) on a ``PlayApp``, called from the game's
    thread: each call runs in the app's thread, and ``ask`` waits for the typed answer."""

    def __init__(self, app: PlayApp) -> None:
        self.app = app

    def show(self, observation: Observation) -> None:
        """The view follows the episode's log by itself."""

    def say(self, text: str, style: str = "") -> None:
        self._in_app(lambda: self.app.say(text, style))

    def ask(self, prompt: str) -> str:
        self._in_app(lambda: self.app.ask(prompt))
        answer = self.app.answers.get()
        if answer is CLOSED:
            raise EOFError("the view was closed before the game ended")
        return answer.strip()

    def _in_app(self, call: Callable[[], None]) -> None:
        self.app.ready.wait()
        try:
            self.app.call_from_thread(call)
        except RuntimeError:  # the app is not running (closed, or not yet started)
            raise EOFError("the view was closed before the game ended") from None
