"""One episode's model calls: the ``calls.jsonl`` record and the log that writes or serves it.

The episode layer counts and restores calls through this log without knowing any model
code; ``traitors.llm.Gateway`` appends to it live and reads from it in replay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from traitors.store.log import LogError, problem
from traitors.store.manifest import SeatHealth


class CallWriter(Protocol):
    """Where a live log appends its records (an episode's ``EpisodeWriter``, a judge run's
    ``calls.jsonl``)."""

    def call(self, line: str) -> None:
        """Append one record line (JSON, no newline)."""


class ReplayMiss(LookupError):
    """Replay asked for a call that the recording does not hold."""


class Usage(BaseModel):
    """Tokens of one call, as the provider counted them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt_tokens: int = 0
    """Tokens in the prompt."""
    completion_tokens: int = 0
    """Tokens generated."""
    cached_tokens: int = 0
    """Prompt tokens read from the provider's prompt cache (priced at its cached rate)."""
    cache_write_tokens: int = 0
    """Prompt tokens written to the provider's prompt cache (Anthropic prices them higher)."""
    reasoning_tokens: int = 0
    """Completion tokens the model spent thinking (part of ``completion_tokens``)."""

    LATER_FIELDS: ClassVar[tuple[str, ...]] = (
        "cached_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
    )
    """Fields added later: left out of a ``calls.jsonl`` line while 0."""


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
    error_kind: str | None = None
    """What kind of error that was: ``auth``, ``permission``, ``not_found``, ``bad_request``,
    ``context_length``, ``content_policy`` (never retried), ``rate_limit``, ``timeout``,
    ``transient`` (retried) or ``other``; None when the call succeeded (and in records written
    before kinds were recorded)."""
    reasoning: str | None = None
    """The model's own thinking, where the provider returned it (litellm's
    ``reasoning_content`` or Anthropic's thinking blocks): the seat's private reasoning."""
    finish_reason: str | None = None
    """Why the model stopped, when not a plain ``stop``: ``length`` (cut by ``max_tokens``),
    ``content_filter``, ``tool_calls``..."""
    refusal: str | None = None
    """The model's refusal, when it refused instead of answering (OpenAI's ``refusal``)."""
    usage: Usage
    """Tokens counted."""
    cost: float
    """Cost in dollars (0 for in-process models and unknown prices)."""
    cache_saving: float | None = None
    """Dollars the cached prompt tokens saved against the model's full input price (None
    when no prompt token was read from a cache)."""
    probe_score: float | None = None
    """The seat's probe's P(lie) of the reply's hidden state (``agents.<seat>.probe``):
    what a replay serves, as the activations are not recorded."""
    latency_s: float
    """Seconds from the first attempt to the answer."""
    attempts: int
    """Attempts made (1 + retries)."""
    started_at: float
    """Wall-clock start (seconds since the epoch)."""

    def to_json(self) -> str:
        """The record's line: the fields added later are left out while unset, so a call
        that uses none of them is written as it was before they existed."""
        unset = {name for name in LATER_FIELDS if getattr(self, name) is None}
        usage_unset = {name for name in Usage.LATER_FIELDS if not getattr(self.usage, name)}
        exclude: dict[str, Any] = dict.fromkeys(unset, True)
        if usage_unset:
            exclude["usage"] = usage_unset
        return self.model_dump_json(exclude=exclude)


LATER_FIELDS = (
    "error_kind",
    "reasoning",
    "finish_reason",
    "refusal",
    "cache_saving",
    "probe_score",
)
"""Fields of ``CallRecord`` added after ``calls.jsonl`` files were written: left out of a
line while None."""


@dataclass
class CallLog:
    """One episode's calls: written to ``calls.jsonl`` when live, served from it in replay."""

    writer: CallWriter | None = None
    recorded: dict[str, CallRecord] | None = None
    """key -> record; set for replay."""
    counters: dict[str, int] = field(default_factory=dict)
    totals: dict[str, float] = field(
        default_factory=lambda: {
            "calls": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "cost": 0,
            "cached_tokens": 0,
            "reasoning_tokens": 0,
            "cache_saving": 0,
        }
    )
    seats: dict[str, SeatHealth] = field(default_factory=dict)
    """Agent -> its calls and failed calls."""
    failed_kinds: dict[str, int] = field(default_factory=dict)
    """Failed calls by error kind (a record's ``error_kind``; ``unknown`` where it names none)."""

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
        self.totals["cached_tokens"] += record.usage.cached_tokens
        self.totals["cache_saving"] += record.cache_saving or 0.0
        self.totals["reasoning_tokens"] += record.usage.reasoning_tokens
        seat = self.seats.setdefault(record.agent, SeatHealth())
        seat.calls += 1
        if record.error is not None:
            seat.failed_calls += 1
            kind = record.error_kind or "unknown"
            self.failed_kinds[kind] = self.failed_kinds.get(kind, 0) + 1
        if self.writer is not None:
            self.writer.call(record.to_json())
