"""Piped sweep progress: a line every ``line_seconds`` while episodes run, even when none
finishes in that time (slow model calls)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable

from conftest import TRAITORS_YAML
from rich.console import Console

from traitors.episode.spec import load_spec
from traitors.sweep.jobs import Job, JobResult
from traitors.sweep.progress import SweepProgress


def lines_of(out: io.StringIO) -> list[str]:
    return [line for line in out.getvalue().splitlines() if "episodes |" in line]


def wait_for(condition: Callable[[], bool]) -> bool:
    """Poll ``condition`` for up to 30 s (the ticker runs every few ms here)."""
    for _ in range(3000):
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_piped_progress_prints_while_an_episode_runs_and_none_finishes() -> None:
    out = io.StringIO()
    spec = load_spec(TRAITORS_YAML)
    first, second = Job(spec, 0, "e0"), Job(spec, 1, "e1")
    with SweepProgress(2, Console(file=out, width=200), line_seconds=0.005) as progress:
        assert not progress.live
        progress.start(first)
        assert wait_for(lambda: len(lines_of(out)) >= 3)
        assert all(line.startswith("0/2 episodes | done 0") for line in lines_of(out))
        assert all("running 1" in line for line in lines_of(out))
        progress.finish(JobResult("e0", "complete", usage={"calls": 7}))
        progress.start(second)
        assert wait_for(lambda: any(line.startswith("1/2") for line in lines_of(out)))
        progress.finish(JobResult("e1", "complete"))
    shown = len(lines_of(out))
    time.sleep(0.05)
    assert len(lines_of(out)) == shown  # the ticker stopped with the sweep
    assert "calls 7" in lines_of(out)[-1]


def test_in_a_terminal_no_lines_are_printed() -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=True)
    with SweepProgress(1, console, line_seconds=0.005) as progress:
        progress.start(Job(load_spec(TRAITORS_YAML), 0, "e0"))
        time.sleep(0.05)
        progress.finish(JobResult("e0", "complete"))
    assert not lines_of(out)
