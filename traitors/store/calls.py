"""One episode's model calls: the ``calls.jsonl`` record and the log that writes or serves it.

The episode layer counts and restores calls through this log without knowing any model
code; ``traitors.llm.Gateway`` appends to it live and reads from it in replay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from traitors.store.log import EpisodeWriter, LogError, problem
from traitors.store.manifest import SeatHealth


class ReplayMiss(LookupError):
    """Replay asked for a call that the recording does not hold."""


class Usage(BaseModel):
    """Tokens of one call, as the provider counted them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt_tokens: int = 0
    """Tokens in the prompt."""
    completion_tokens: int = 0
    """Tokens generated."""


class CallRecord(BaseModel):
    """One line of ``calls.jsonl``: a model call and what came back."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent: str
    """The seat that called."""
    index: int
    """The seat's call number in the episode (0, 1, ...)."""
    key: str
    """sha256 of the request, the agent and the index: what replay looks calls up by."""
    model: str
    """The model called."""
    messages: list[dict[str, str]]
    """The chat messages sent."""
    params: dict[str, Any]
    """The output-affecting options that were set."""
    text: str | None
    """The reply, or None if the call failed."""
    error: str | None
    """Why the call failed after every attempt (keys masked), or None."""
    usage: Usage
    """Tokens counted."""
    cost: float
    """Cost in dollars (0 for in-process models and unknown prices)."""
    latency_s: float
    """Seconds from the first attempt to the answer."""
    attempts: int
    """Attempts made (1 + retries)."""
    started_at: float
    """Wall-clock start (seconds since the epoch)."""


@dataclass
class CallLog:
    """One episode's calls: written to ``calls.jsonl`` when live, served from it in replay."""

    writer: EpisodeWriter | None = None
    recorded: dict[str, CallRecord] | None = None
    """key -> record; set for replay."""
    counters: dict[str, int] = field(default_factory=dict)
    totals: dict[str, float] = field(
        default_factory=lambda: {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost": 0}
    )
    seats: dict[str, SeatHealth] = field(default_factory=dict)
    """Agent -> its calls and failed calls."""

    @classmethod
    def replaying(cls, path: str | Path) -> CallLog:
        """A log that serves the calls recorded in ``path`` (a calls.jsonl)."""
        recorded = {}
        with open(path, "rb") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    record = CallRecord.model_validate_json(line)
                except ValueError as exc:
                    raise LogError(
                        f"{path}, line {number}: not a call record: {problem(exc)}"
                    ) from None
                recorded[record.key] = record
        return cls(recorded=recorded)

    def begin_continuation(self, live: bool) -> int:
        """A fork's continuation starts: from here on its usage (calls, tokens, cost) is
        counted afresh and, when ``live``, calls go to the models instead of the recording;
        each seat's health counts go on. Returns the calls served so far."""
        served = int(self.totals["calls"])
        self.totals = {key: 0 for key in self.totals}
        if live:
            self.recorded = None
        return served

    def next_index(self, agent: str) -> int:
        """The agent's next call index (0, 1, 2, ...) in this episode."""
        index = self.counters.get(agent, 0)
        self.counters[agent] = index + 1
        return index

    def add(self, record: CallRecord) -> None:
        """Count a finished call and append it to the episode's calls.jsonl."""
        self.totals["calls"] += 1
        self.totals["prompt_tokens"] += record.usage.prompt_tokens
        self.totals["completion_tokens"] += record.usage.completion_tokens
        self.totals["cost"] += record.cost
        seat = self.seats.setdefault(record.agent, SeatHealth())
        seat.calls += 1
        seat.failed_calls += record.error is not None
        if self.writer is not None:
            self.writer.call(record.model_dump_json())
