"""``traitors play``: a person takes one seat; the spec's agents play the others.

The seat is played by the policy registered as ``human`` (``agents.human``), which reads
answers through a ``SeatIO`` (the seat terminal of ``traitors.episode.policy``): the seat's view
on a console (a rich layout in a terminal, plain lines otherwise) and answers from stdin.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.text import Text

from traitors.episode.engine import EpisodeResult, run_episode
from traitors.episode.policy import Observation, SeatTerminal
from traitors.episode.spec import ScenarioSpec, episode_id, set_field, validate_spec
from traitors.game.words import Words
from traitors.store.log import EpisodeWriter
from traitors.sweep.services import live_services
from traitors.util.text import printable
from traitors.view.spectate.display import Fit, LineDisplay
from traitors.view.spectate.view import Spectator

HUMAN = "human"
PROMPT_ROWS = 8
"""Terminal rows kept below the view for the question and its choices."""


class SeatIO:
    """A human seat's terminal: shows what the seat has seen, reads its answers."""

    def __init__(self, stdin: TextIO, console: Console, title: str, words: Words) -> None:
        self.stdin = stdin
        self.console = console
        self.title = title
        """Shown at the top of the seat's view."""
        self.words = words
        self._spectator: Spectator | None = None
        self._lines = LineDisplay(console, words)
        self._seen = 0

    def show(self, observation: Observation) -> None:
        """Fold in the events seen since the last call and show the seat's view."""
        if self._spectator is None:
            self._spectator = Spectator(self.words, observation.agent, self.title)
        new = observation.events[self._seen :]
        self._seen = len(observation.events)
        for event in new:
            self._spectator.board.update(event)
            if not self.console.is_terminal:
                self._lines.show(event)
        if self.console.is_terminal:
            height = max(self.console.height - PROMPT_ROWS, 10)
            self.console.print(Fit(self._spectator.render(), height))

    def say(self, text: str, style: str = "") -> None:
        """Print one line, literally (control characters escaped)."""
        self.console.print(Text(printable(text), style=style), highlight=False)

    def ask(self, prompt: str) -> str:
        """Read one answer; a piped answer is echoed so the transcript reads naturally."""
        self.console.print(Text(f"{prompt}> ", style="bold"), end="")
        self.console.file.flush()
        line = self.stdin.readline()
        if not line:
            raise EOFError("input ended before the game did")
        if not self.stdin.isatty():
            self.console.print(line.rstrip("\n"), markup=False, highlight=False)
        return line.strip()


def seat_io(
    words: Words,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    title: str = "play",
) -> SeatIO:
    """A seat on these streams (default: the process's); long lines are not re-wrapped
    when output is not a terminal."""
    console = Console(file=stdout)
    console.soft_wrap = not console.is_terminal
    return SeatIO(stdin or sys.stdin, console, title, words)


def seats(spec: ScenarioSpec) -> tuple[str, ...]:
    """The spec's seat names."""
    return spec.seats(spec.build_rules().seat_count())


def with_human(spec: ScenarioSpec, seat: str) -> ScenarioSpec:
    """The spec with ``seat`` played by a person."""
    raw = set_field(
        spec.model_dump(mode="json"), f"agents.{seat}.policy", HUMAN, source="--as", context=seat
    )
    return validate_spec(raw, source=spec.name)


async def play(spec: ScenarioSpec, seed: int, out_dir: Path, io: SeatTerminal) -> EpisodeResult:
    """Play one episode of ``spec`` (with a human seat) into ``out_dir/<episode_id>/``."""
    writer = EpisodeWriter(out_dir / episode_id(spec, seed))
    writer.FLUSH_SECONDS = 0.0  # every step written out: the person's view waits on no buffer
    services = live_services(writer)
    services.terminal = io
    return await run_episode(spec, seed, writer=writer, services=services)
