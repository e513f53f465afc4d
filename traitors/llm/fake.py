"""A function-backed fake model, served through litellm as the provider ``fake``.

``register_fake_model("name", fn)`` makes ``model: fake/name`` call ``fn(call)`` in-process.
``fn`` returns the reply text (or an awaitable of it) and may raise litellm's exceptions
(``RateLimitError``, ``Timeout``, ...) or sleep, to drive every path of the gateway and the
LLM agent in tests and benchmarks without any network.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from traitors.llm.endpoints import import_litellm


@dataclass(frozen=True)
class FakeCall:
    """What the fake model function is given."""

    model: str
    """The fake's name (after ``fake/``)."""
    messages: list[dict[str, str]]
    """The chat messages."""
    params: dict[str, Any]
    """Output-affecting options (temperature, max_tokens, response_format, ...)."""
    index: int
    """How many calls this fake served before (0-based, per process)."""

    @property
    def prompt(self) -> str:
        """All message contents joined."""
        return "\n".join(m["content"] for m in self.messages)


FakeFunction = Callable[[FakeCall], str | Awaitable[str]]
_functions: dict[str, FakeFunction] = {}
_counts: dict[str, int] = {}
_registered = False
BUILTIN = "random"
"""``fake/random``: always available, answers with random schema-valid replies. Options in
the name, e.g. ``fake/random?latency=0.2&fail=0.3``: wait 0.2 s per call, and fail 30% of
calls with a transient error (for benchmarks and fault injection from plain YAML);
``price=0.5`` bills $0.50 per 1,000 tokens (for budgets)."""
_failures = random.Random()  # which calls fail is noise by design, never game state


def register_fake_model(name: str, fn: FakeFunction) -> str:
    """Serve ``fake/<name>`` with ``fn``; returns the model string."""
    _functions[name] = fn
    _counts[name] = 0
    return f"fake/{name}"


def estimate_tokens(text: str) -> int:
    """A rough token count (4 characters a token), used for the fake's usage numbers."""
    return math.ceil(len(text) / 4)


def fill_schema(schema: dict[str, Any], rng: random.Random) -> Any:
    """A random value that satisfies a (simple) JSON schema: enums, objects, arrays (of
    distinct enum values unless ``uniqueItems`` is false), numbers, booleans, text."""
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        return {k: fill_schema(v, rng) for k, v in schema.get("properties", {}).items()}
    if kind == "number":
        return round(rng.uniform(schema.get("minimum", 0), schema.get("maximum", 1)), 3)
    if kind == "integer":
        return rng.randint(schema.get("minimum", 0), schema.get("maximum", 10))
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "array":
        items = schema.get("items", {})
        count = schema.get("minItems", 1)
        if "enum" in items and schema.get("uniqueItems", True):
            return rng.sample(items["enum"], min(count, len(items["enum"])))
        return [fill_schema(items, rng) for _ in range(count)]
    return rng.choice(FILLER_TEXT)


FILLER_TEXT = (
    "I have been watching the votes closely.",
    "Something feels off about the last round.",
    "Let us not rush this decision.",
)


def schema_filler(salt: str = "") -> Callable[[FakeCall], str]:
    """A fake model answering every structured request with a random valid reply.

    The randomness is seeded by the request itself, so the same prompt always gets the same
    answer: live runs of a fake-model episode are as reproducible as scripted ones. At
    temperature 0 the sampling seed is ignored, as a greedy model would.
    """

    def answer(call: FakeCall) -> str:
        seed = None if call.params.get("temperature") == 0 else call.params.get("seed")
        digest = hashlib.sha256(f"{salt}|{seed}|{call.prompt}".encode())
        rng = random.Random(digest.digest())
        response_format = call.params.get("response_format") or {}
        schema = response_format.get("json_schema", {}).get("schema")
        if schema is None:
            return rng.choice(FILLER_TEXT)
        return json.dumps(fill_schema(schema, rng))

    return answer


def _builtin(model: str) -> FakeFunction:
    options = {k: float(v[0]) for k, v in parse_qs(model.partition("?")[2]).items()}
    latency, fail = options.get("latency", 0.0), options.get("fail", 0.0)  # price: the gateway
    fill = schema_filler()
    litellm = import_litellm()

    async def answer(call: FakeCall) -> str:
        if latency:
            await asyncio.sleep(latency)
        if fail and _failures.random() < fail:
            raise litellm.ServiceUnavailableError("injected failure", "fake", call.model)
        return fill(call)

    return answer


def register_fake_provider() -> None:
    """Register the ``fake`` provider with litellm (once per process)."""
    global _registered
    if _registered:
        return
    litellm = import_litellm()

    class FakeProvider(litellm.CustomLLM):  # type: ignore[misc, name-defined]
        async def acompletion(
            self, model: str, messages: list[Any], *args: Any, **kwargs: Any
        ) -> Any:
            if model.partition("?")[0] == BUILTIN and model not in _functions:
                register_fake_model(model, _builtin(model))
            if model not in _functions:
                raise litellm.BadRequestError(
                    f"no fake model {model!r} registered", model=model, llm_provider="fake"
                )
            params = dict(kwargs.get("optional_params") or {})
            params.pop("max_retries", None)
            call = FakeCall(model, [dict(m) for m in messages], params, _counts[model])
            _counts[model] += 1
            result = _functions[model](call)
            text = await result if inspect.isawaitable(result) else result
            prompt_tokens = estimate_tokens(call.prompt)
            completion_tokens = estimate_tokens(text)
            return litellm.ModelResponse(
                model=f"fake/{model}",
                choices=[{"message": {"role": "assistant", "content": text}}],
                usage={
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            )

    litellm.custom_provider_map = [
        *[p for p in litellm.custom_provider_map if p["provider"] != "fake"],
        {"provider": "fake", "custom_handler": FakeProvider()},
    ]
    _registered = True
