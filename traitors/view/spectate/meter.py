"""LLM usage of an episode (calls, tokens, cost, latency), summed from ``calls.jsonl`` records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CallMeter:
    """Running totals of model calls; in a player view only that player's own calls count."""

    viewer: str | None = None
    """Count only this agent's calls; None counts every call."""
    calls: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def add(self, record: Mapping[str, Any]) -> None:
        """Count one line of ``calls.jsonl``."""
        if self.viewer is not None and record.get("agent") != self.viewer:
            return
        usage = record.get("usage") or {}
        self.calls += 1
        self.errors += record.get("error") is not None
        self.prompt_tokens += int(usage.get("prompt_tokens", 0))
        self.completion_tokens += int(usage.get("completion_tokens", 0))
        self.cost += float(record.get("cost", 0.0))
        self.latencies.append(float(record.get("latency_s", 0.0)))

    def latency(self, quantile: float) -> float:
        """The latency (seconds) below which ``quantile`` of the calls finished."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]

    def rows(self) -> list[tuple[str, str]]:
        """Label/value pairs for display."""
        mean = sum(self.latencies) / len(self.latencies) if self.latencies else 0.0
        return [
            ("calls", f"{self.calls}" + (f" ({self.errors} failed)" if self.errors else "")),
            ("tokens in", f"{self.prompt_tokens:,}"),
            ("tokens out", f"{self.completion_tokens:,}"),
            ("cost", f"${self.cost:.4f}"),
            ("latency", f"mean {mean:.2f}s"),
            ("", f"p50 {self.latency(0.5):.2f}s"),
            ("", f"p95 {self.latency(0.95):.2f}s"),
        ]
