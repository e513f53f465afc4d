"""Sweep progress: a live rich display in a terminal, plain lines otherwise, and a summary."""

from __future__ import annotations

import threading
import time
from collections import Counter

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from traitors.store.validity import warning_line, warnings
from traitors.sweep.jobs import Job, JobResult

REFRESH_SECONDS = 0.1
LINE_SECONDS = 10.0


def counting_bar(label: str, console: Console, live: bool, transient: bool = False) -> Progress:
    """The bar of long work: ``label``, done of total, a ``stats`` field, elapsed and ETA
    (disabled when not ``live``)."""
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[stats]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=not live,
        transient=transient,
    )


class SweepProgress:
    """Counts episodes and LLM usage as results arrive and shows them: live in a terminal;
    piped, a line every ``line_seconds`` while episodes run, and one per failure."""

    def __init__(
        self, total: int, console: Console | None = None, line_seconds: float = LINE_SECONDS
    ) -> None:
        self.console = console or Console()
        self.line_seconds = line_seconds
        self.total = total
        self.counts: Counter[str] = Counter()
        self.usage: Counter[str] = Counter()
        self.health: Counter[str] = Counter()
        """The ``health_total`` counts of the episodes completed now (degraded ones are left
        out, as the analysis leaves them out)."""
        self.degraded = 0
        """Attempts that played to the end but came out degraded (each retry counts)."""
        self.running = 0
        self.started = time.perf_counter()
        self._refreshed = 0.0
        self.live = self.console.is_terminal
        self._progress = counting_bar("episodes", self.console, self.live)
        self._task = self._progress.add_task("sweep", total=total, stats=self.stats())
        self._closed = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="sweep-progress", daemon=True)

    def __enter__(self) -> SweepProgress:
        self._progress.start()
        if not self.live:
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed.set()
        if self._ticker.is_alive():
            self._ticker.join()
        self._progress.update(self._task, stats=self.stats())
        self._progress.stop()

    def stats(self) -> str:
        """Done, failed and running episodes; calls, tokens, cost and calls/s."""
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        tokens = self.usage["prompt_tokens"] + self.usage["completion_tokens"]
        return (
            f"done {self.counts['complete'] + self.counts['skipped']} "
            f"failed {self.counts['failed']} running {self.running} | "
            f"calls {self.usage['calls']:.0f} tokens {tokens:.0f} "
            f"cost ${self.usage['cost']:.4f} {self.usage['calls'] / elapsed:.1f} calls/s"
        )

    def start(self, job: Job) -> None:
        """A job began."""
        self.running += 1
        self._refresh()

    def finish(self, result: JobResult, final: bool = True) -> None:
        """A job ended; ``final`` is False when it failed but will be retried (piped, a line
        says so)."""
        self.running -= 1
        self.usage.update(result.usage)
        if result.status == "complete":
            self.health.update(result.health)
        self.degraded += result.degraded
        if final or result.status != "failed":
            self.counts[result.status] += 1
            self._progress.advance(self._task)
        self._refresh()
        if not self.live and result.status == "failed":
            detail = result.error.strip().splitlines()[-1] if result.error else ""
            retry = " (will retry)" if not final else ""
            self.console.print(f"{result.episode_id} failed{retry}: {detail}", highlight=False)

    def skipped_before_start(self, count: int) -> None:
        """``count`` jobs were already complete on disk."""
        self.counts["skipped"] += count
        self._progress.advance(self._task, count)

    def refused(self, count: int) -> None:
        """``count`` jobs were not started: the budget would have been passed."""
        self.counts["pending"] += count

    def _refresh(self) -> None:
        """Redraw the stats at most every ``REFRESH_SECONDS``."""
        now = time.perf_counter()
        if now - self._refreshed < REFRESH_SECONDS:
            return
        self._refreshed = now
        self._progress.update(self._task, stats=self.stats())

    def _tick(self) -> None:
        """Piped: a progress line every ``line_seconds`` while episodes run, however long
        they take (a sweep of 100,000 quick episodes is not 100,000 lines either)."""
        while not self._closed.wait(self.line_seconds):
            if self.running:
                done = self.counts["complete"] + self.counts["skipped"]
                line = f"{done}/{self.total} episodes | {self.stats()}"
                self.console.print(line, highlight=False)

    def warning(self) -> str | None:
        """The validity warning line (``traitors.store.validity``): a rate of the complete
        episodes' counts, or the share of degraded attempts, above its threshold."""
        counts = {**self.health, "episodes": self.counts["complete"], "degraded": self.degraded}
        return warning_line(warnings(counts))

    def summary(self) -> Table:
        """The closing table; the validity warning, if any, is its caption."""
        warning = self.warning()
        table = Table(title="sweep summary", caption=warning, caption_style="bold yellow")
        table.add_column("what")
        table.add_column("value", justify="right")
        elapsed = time.perf_counter() - self.started
        h = self.health
        for label, value in (
            ("episodes", self.total),
            ("completed now", self.counts["complete"]),
            ("already complete (skipped)", self.counts["skipped"]),
            ("failed", self.counts["failed"]),
            ("not started (budget)", self.counts["pending"]),
            ("LLM calls", f"{self.usage['calls']:.0f}"),
            (
                "tokens in / out",
                f"{self.usage['prompt_tokens']:.0f} / {self.usage['completion_tokens']:.0f}",
            ),
            ("cost", f"${self.usage['cost']:.4f}"),
            ("cached prompt tokens (saved)", self._cached()),
            ("failed calls / calls (complete)", f"{h['failed_calls']} / {h['calls']}"),
            ("timed-out calls / calls (complete)", f"{h['timeouts']} / {h['calls']}"),
            ("defaulted actions / decisions (complete)", f"{h['defaulted']} / {h['decisions']}"),
            ("repaired replies / decisions (complete)", f"{h['repaired']} / {h['decisions']}"),
            ("degraded attempts (left out)", self.degraded),
            ("wall time", f"{elapsed:.1f} s"),
        ):
            table.add_row(label, str(value))
        return table

    def _cached(self) -> str:
        """The prompt tokens read from providers' caches, their share, and what they saved."""
        cached, prompt = self.usage["cached_tokens"], self.usage["prompt_tokens"]
        share = f" ({cached / prompt:.0%})" if prompt else ""
        return f"{cached:.0f}{share} (${self.usage['cache_saving']:.4f})"
