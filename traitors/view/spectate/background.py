"""Run work (a run's episodes, a played game) in a thread while the interactive view is open."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from traitors.view.spectate.app import WatchApp

T = TypeVar("T")


class Background(Generic[T]):
    """``work()`` in a daemon thread; ``result`` re-raises what it raised."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._work = work
        self._value: T | None = None
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="traitors-work", daemon=True)

    def _run(self) -> None:
        try:
            self._value = self._work()
        except BaseException as exc:  # handed to the main thread by ``result``
            self._error = exc

    @property
    def done(self) -> bool:
        """Whether the work has ended."""
        return not self.thread.is_alive()

    def result(self) -> T:
        """Wait for the work to end; its value, or what it raised."""
        if self.thread.is_alive():
            print("the view is closed; the work goes on (Ctrl-C stops it)...", file=sys.stderr)
        self.thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # set when the thread ended cleanly


def run_beside(app: WatchApp, work: Callable[[], T]) -> T:
    """Start ``work`` in a thread, run ``app`` until it is quit, then wait for the work."""
    background = Background(work)
    app.work_done = lambda: background.done
    background.thread.start()
    app.run()
    return background.result()
