"""``traitors play``: a person takes one seat; the spec's agents play the others.

The seat is played by the policy registered as ``human`` (``agents.human``), which reads
answers from ``SeatIO.stdin`` and shows the seat's view on ``SeatIO.console``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from rich.console import Console

from traitors.engine import EpisodeResult, build_rules, run_episode
from traitors.log import EpisodeWriter
from traitors.runner.services import live_services
from traitors.spec import ScenarioSpec, episode_id, set_field, validate_spec

HUMAN = "human"
SEAT_IO = "seat_io"
"""Service key under which the human seat finds its ``SeatIO``."""


@dataclass(frozen=True)
class SeatIO:
    """Where a human seat reads its answers and shows what it sees."""

    stdin: TextIO
    console: Console
    title: str
    """Shown at the top of the seat's view."""


def seat_io(
    stdin: TextIO | None = None, stdout: TextIO | None = None, title: str = "play"
) -> SeatIO:
    """A seat on these streams (default: the process's); long lines are not re-wrapped
    when output is not a terminal."""
    console = Console(file=stdout)
    console.soft_wrap = not console.is_terminal
    return SeatIO(stdin or sys.stdin, console, title)


def seats(spec: ScenarioSpec) -> tuple[str, ...]:
    """The spec's seat names."""
    return spec.seats(build_rules(spec).seat_count())


def with_human(spec: ScenarioSpec, seat: str) -> ScenarioSpec:
    """The spec with ``seat`` played by a person."""
    raw = set_field(
        spec.model_dump(mode="json"), f"agents.{seat}.policy", HUMAN, source="--as", context=seat
    )
    return validate_spec(raw, source=spec.name)


async def play(spec: ScenarioSpec, seed: int, out_dir: Path, io: SeatIO) -> EpisodeResult:
    """Play one episode of ``spec`` (with a human seat) into ``out_dir/<episode_id>/``."""
    writer = EpisodeWriter(out_dir / episode_id(spec, seed))
    services = {**live_services(writer), SEAT_IO: io}
    return await run_episode(spec, seed, writer=writer, services=services)
