"""A judge run's budget: the sweep's rule (``traitors.sweep.budget``) applied to calls.

A call may start only if what the run spent (earlier invocations included), plus what the
calls in flight are expected to spend, plus this call's expected spend stays within the
budget. A call's prompt is known before it is sent, so its expected spend is its own: the
prompt at four characters a token (scaled by the ratio of counted to estimated prompt
tokens of the calls finished so far) and the reply at its ``max_tokens``, at the model's
prices per token.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from traitors.sweep.budget import Spend


def estimated_tokens(characters: int) -> int:
    """A prompt's tokens before a tokenizer counts them: four characters a token."""
    return math.ceil(characters / 4)


@dataclass
class CallBudget:
    """The limits, what is spent, and what the calls in flight are expected to spend."""

    max_cost: float | None
    max_tokens: float | None
    prompt_price: float
    """Dollars per prompt token."""
    reply_price: float
    """Dollars per reply token."""
    reply_tokens: int
    """A reply's ``max_tokens`` (what a reply is expected to take, at most)."""
    spent: Spend = field(default_factory=Spend)
    running: dict[str, Spend] = field(default_factory=dict)
    counted: int = 0
    """Prompt tokens the provider counted in the finished calls."""
    estimated: int = 0
    """The same prompts' :func:`estimated_tokens`."""

    def expected(self, characters: int) -> Spend:
        """What a call whose prompt has ``characters`` is expected to spend."""
        ratio = self.counted / self.estimated if self.estimated else 1.0
        prompt = estimated_tokens(characters) * ratio
        cost = prompt * self.prompt_price + self.reply_tokens * self.reply_price
        return Spend(cost, prompt + self.reply_tokens)

    def admit(self, characters: int) -> bool:
        """Whether a call whose prompt has ``characters`` may start within the budget."""
        total = self.spent + self.expected(characters)
        for spend in self.running.values():
            total += spend
        over_cost = self.max_cost is not None and total.cost > self.max_cost
        over_tokens = self.max_tokens is not None and total.tokens > self.max_tokens
        return not (over_cost or over_tokens)

    def started(self, key: str, characters: int) -> None:
        """The call for statement ``key`` started: its expected spend is committed."""
        self.running[key] = self.expected(characters)

    def finished(self, key: str, spend: Spend, characters: int, prompt_tokens: int) -> None:
        """A call ended (also one of an earlier invocation): its real spend replaces the
        expected one, and its prompt tokens tune the estimate."""
        self.running.pop(key, None)
        self.spent += spend
        if prompt_tokens:
            self.counted += prompt_tokens
            self.estimated += estimated_tokens(characters)
