"""Progress of ``traitors import``: a live rich bar in a terminal (cleared at the end), a line
every ten seconds when piped (a short import prints none)."""

from __future__ import annotations

import time
from collections import Counter

from rich.console import Console

from traitors.sweep.progress import LINE_SECONDS, REFRESH_SECONDS, counting_bar


class ImportProgress:
    """Counts the files as they are settled (stored, kept or refused) and shows them."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.counts: Counter[str] = Counter()
        self.total = 0
        self.started = time.perf_counter()
        self._refreshed = self._lined = self.started
        self.live = console.is_terminal
        self._progress = counting_bar("games", console, self.live, transient=True)
        self._task = self._progress.add_task("import", total=0, stats="")

    def __enter__(self) -> ImportProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    @property
    def settled(self) -> int:
        return sum(self.counts.values())

    def stats(self) -> str:
        """What became of the files so far, and games/s."""
        c = self.counts
        rate = (c["complete"] + c["degraded"]) / max(time.perf_counter() - self.started, 1e-9)
        return (
            f"complete {c['complete']} degraded {c['degraded']} kept {c['kept']} "
            f"skipped {c['skipped']} | {rate:.1f} games/s"
        )

    def found(self, total: int) -> None:
        """``total`` files are known so far."""
        if total != self.total:
            self.total = total
            self._progress.update(self._task, total=total)

    def settle(self, what: str, count: int = 1) -> None:
        """``count`` files were settled as ``what`` (``complete``, ``degraded``, ``kept``,
        ``skipped``)."""
        self.counts[what] += count
        self.found(max(self.total, self.settled))  # a path refused before it was counted
        self._progress.update(self._task, completed=self.settled)
        now = time.perf_counter()
        if now - self._refreshed >= REFRESH_SECONDS:
            self._refreshed = now
            self._progress.update(self._task, stats=self.stats())
        if not self.live and now - self._lined >= LINE_SECONDS:
            self._lined = now
            self.console.print(
                f"{self.settled}/{self.total} files | {self.stats()}", highlight=False
            )
