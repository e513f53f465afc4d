"""What an episode of a spec is expected to cost, before any money is spent.

A few episodes of the spec are played with every LLM seat answered by a dry gateway: it
builds each real prompt (so prompt sizes are measured, not guessed), counts its tokens at
four characters a token, answers with a random schema-valid reply and counts the reply as
``max_tokens`` tokens (an upper bound: a model may stop earlier). Prices are litellm's;
in-process and hosted models are free, a model litellm has no price for is ``unknown``.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
from collections import defaultdict
from dataclasses import dataclass

from traitors.episode.engine import run_episode
from traitors.episode.policy import Services
from traitors.episode.spec import ScenarioSpec
from traitors.llm.endpoints import endpoint_for
from traitors.llm.fake import FILLER_TEXT, fill_schema
from traitors.llm.gateway import Gateway, ModelRequest
from traitors.store.calls import CallLog

SAMPLES = 3
"""Episodes played per estimate."""
DEFAULT_MAX_TOKENS = 256


class DryGateway(Gateway):
    """A gateway that calls no model: it measures prompts and makes up valid replies."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        """Model -> [prompt tokens, completion tokens] of every call so far."""

    async def _call(self, request: ModelRequest) -> tuple[str, dict[str, int], float]:
        prompt = "\n".join(m["content"] for m in request.messages)
        rng = random.Random(f"{request.seed}|{prompt}")
        schema = (request.response_format or {}).get("json_schema", {}).get("schema")
        text = json.dumps(fill_schema(schema, rng)) if schema else rng.choice(FILLER_TEXT)
        usage = {
            "prompt_tokens": math.ceil(len(prompt) / 4),
            "completion_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        }
        tally = self.tokens[request.model]
        tally[0] += usage["prompt_tokens"]
        tally[1] += usage["completion_tokens"]
        return text, usage, 0.0


@dataclass(frozen=True)
class Estimate:
    """Expected model use of one episode of a spec."""

    calls: float
    """Model calls."""
    prompt_tokens: float
    completion_tokens: float
    cost: float | None
    """Dollars, or None when some model's price is unknown."""
    unknown: tuple[str, ...] = ()
    """Models litellm has no price for."""

    @property
    def tokens(self) -> float:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


def estimate(spec: ScenarioSpec, samples: int = SAMPLES) -> Estimate:
    """Play ``samples`` dry episodes of ``spec`` (seeds spec.seed, +1, ...) and average."""
    gateway = DryGateway()
    calls = 0

    async def play() -> None:
        nonlocal calls
        for seed in range(spec.seed, spec.seed + samples):
            log = CallLog()
            await run_episode(spec, seed, services=Services(gateway=gateway, calls=log))
            calls += int(log.totals["calls"])

    asyncio.run(play())
    prompt = sum(p for p, _ in gateway.tokens.values())
    completion = sum(c for _, c in gateway.tokens.values())
    cost: float | None = 0.0
    unknown = []
    for model, (p, c) in sorted(gateway.tokens.items()):
        price = model_price(model, p, c)
        if price is None:
            unknown.append(model)
        elif cost is not None:
            cost += price
    total = None if unknown else (cost or 0.0) / samples
    return Estimate(calls / samples, prompt / samples, completion / samples, total, tuple(unknown))


def model_price(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """Dollars for these tokens at litellm's prices; 0 for in-process and hosted models,
    None when litellm has no price for the model."""
    return endpoint_for(model).token_price(model, prompt_tokens, completion_tokens)
