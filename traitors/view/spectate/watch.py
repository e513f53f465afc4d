"""Watch one episode directory: replay a finished one, or follow one being written."""

from __future__ import annotations

import math
import time
from pathlib import Path

from rich.console import Console

from traitors.store.log import ERROR
from traitors.view.spectate.display import make_display
from traitors.view.spectate.tail import EpisodeTail
from traitors.view.spectate.view import Spectator, episode_words

DEFAULT_SPEED = 10.0
"""Events per second when a finished episode is replayed in a terminal."""
POLL_SECONDS = 0.25
"""Default pause between reads of an episode being followed."""


def watch_episode(
    directory: Path,
    console: Console,
    *,
    viewer: str | None = None,
    follow: bool = False,
    speed: float | None = None,
    poll: float | None = None,
    timeout: float | None = None,
) -> Spectator:
    """Show ``directory`` on ``console`` as ``viewer`` sees it (None: god view).

    A finished episode replays at ``speed`` events per second (0: at once; default
    ``DEFAULT_SPEED`` in a terminal, 0 otherwise). An unfinished one shows what is written
    so far, and with ``follow`` keeps reading every ``poll`` seconds (default
    ``POLL_SECONDS``) until the episode ends or ``timeout`` seconds pass. Raises
    UnknownPlayer if ``viewer`` is not at the table.
    """
    tail = EpisodeTail(directory)
    spectator = Spectator(episode_words(directory), viewer, directory.name)
    if speed is None:
        speed = DEFAULT_SPEED if console.is_terminal else 0.0
    delay = 1 / speed if speed > 0 and tail.finished() else 0.0
    deadline = time.monotonic() + timeout if timeout is not None else math.inf
    display = make_display(console, spectator)
    try:
        while True:
            ended = tail.finished()  # checked before reading: the last read then drains all
            spectator.add_calls(tail.calls())
            for event in spectator.visible(tail.events(last=ended)):
                spectator.board.update(event)
                display.show(event)
                if delay and event.line_text(spectator.board.words) is not None:
                    time.sleep(delay)
            display.refresh()
            if ended or not follow or time.monotonic() >= deadline:
                break
            time.sleep(POLL_SECONDS if poll is None else poll)
    finally:
        display.close()
    if (directory / ERROR).is_file():
        console.print(f"the episode failed; traceback in {directory / ERROR}", markup=False)
    return spectator
