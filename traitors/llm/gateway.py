"""The model gateway: the only road from an agent to a model.

It owns the cross-cutting concerns: per-endpoint concurrency limits shared by every
episode in the process, retries with exponential backoff and jitter on transient errors,
a per-call timeout, token and cost accounting, and the record of every call in the
episode's ``calls.jsonl``. In replay mode it serves each response from that record and
fails loudly on a miss, so a recorded episode re-runs exactly without any model.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import re
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict

from traitors.llm.endpoints import RETRIED_KINDS, Endpoints, endpoint_of
from traitors.store.calls import CallLog, CallRecord, ReplayMiss, Usage

SECRET_NAME = re.compile(
    r"(?:^|_)(?:KEYS?|APIKEY|TOKENS?|SECRETS?|PASSWORD|PASSWD|CREDENTIALS?)(?:_|$)", re.IGNORECASE
)
"""Environment variables whose values are secrets: a name word (``OPENAI_API_KEY``,
``HF_TOKEN``), not a part of one (``TIKTOKEN_CACHE_DIR`` is a path)."""


PARAMS = (
    "temperature",
    "max_tokens",
    "seed",
    "response_format",
    "stop",
    "reasoning_effort",
    "thinking_budget",
)
"""A request's output-affecting options, as its key and its call record hold them (only those
set: a request that sets none of the later ones has the key it had before they existed)."""


class ModelRequest(BaseModel):
    """One chat completion request: the model, the messages and output-affecting options."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    """litellm model name, e.g. ``openai/gpt-4o-mini`` or ``local/smollm2-135m``."""
    messages: tuple[dict[str, str], ...]
    """Chat messages (role, content)."""
    temperature: float | None = None
    """Sampling temperature."""
    max_tokens: int | None = None
    """Output token limit."""
    seed: int | None = None
    """Sampling seed, for providers that honour it."""
    response_format: dict[str, Any] | None = None
    """Structured-output constraint (JSON schema)."""
    stop: tuple[str, ...] | None = None
    """Stop sequences."""
    reasoning_effort: str | None = None
    """How hard a reasoning model thinks (``low``, ``medium``, ``high``)."""
    thinking_budget: int | None = None
    """Tokens a model may think before it answers."""
    api_base: str | None = None
    """Where the model is served (litellm's ``api_base``); not part of the key: the same
    request to another server is the same request."""
    stable_messages: int | None = None
    """How many leading messages are the same from call to call (the prompt layout says);
    where the provider caches prompts on request (Anthropic), the last of them gets a cache
    breakpoint, as the system message does. Not part of the key."""
    activations: bool = False
    """Return the reply's hidden states (local models only; ``traitors.llm.local``). Not
    part of the key: they change no text."""
    probe: str | None = None
    """A probe file scoring those hidden states; its score is recorded with the call. Not
    part of the key."""

    def params(self) -> dict[str, Any]:
        """The output-affecting options that are set."""
        return {n: getattr(self, n) for n in PARAMS if getattr(self, n) is not None}

    def key(self, agent: str, index: int) -> str:
        """sha256 of the canonical request, the agent and its call index."""
        body = {
            "model": self.model,
            "messages": self.messages,
            "params": self.params(),
            "agent": agent,
            "index": index,
        }
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


class Reply(NamedTuple):
    """What one successful attempt returned."""

    text: str
    """The reply's content."""
    usage: dict[str, int]
    """Token counts (``Usage``'s fields)."""
    cost: float
    """Dollars."""
    reasoning: str | None = None
    """The model's thinking text (litellm's ``reasoning_content`` or ``thinking_blocks``)."""
    finish_reason: str | None = None
    """Why the model stopped, when not a plain ``stop``: ``length``, ``content_filter``..."""
    refusal: str | None = None
    """The model's refusal, when it refused instead of answering (OpenAI's ``refusal``)."""
    cache_saving: float | None = None
    """Dollars the cached prompt tokens saved (None when none was cached)."""
    activations: dict[int, list[float]] | None = None
    """Layer -> the reply's hidden state, when the request asked for them."""
    probe_score: float | None = None
    """The request's probe's P(lie) of that state."""


Answer = Reply | tuple[str, dict[str, int], float]
"""What ``Gateway._call`` returns: a ``Reply``, or (in subclasses that make replies up) the
text, token counts and cost only."""


@dataclass(frozen=True)
class ModelResponse:
    """What a call returned (or why it failed after all attempts)."""

    key: str
    text: str | None
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    latency: float = 0.0
    attempts: int = 1
    reasoning: str | None = None
    """The model's own thinking, where the provider returns it (private to the seat)."""
    probe_score: float | None = None
    """The request's probe's P(lie) of the reply's hidden state (recorded with the call)."""
    activations: dict[int, list[float]] | None = None
    """Layer -> the reply's hidden state (live calls that asked for them; never recorded)."""

    @property
    def call_id(self) -> str:
        """Short id used to link decisions to calls."""
        return self.key[:16]


SECRET_RUN = 4
"""Shortest run of a secret's characters that is masked (a provider may echo a key partly
masked, e.g. ``sk-tes****123456``: both runs are masked)."""


def secrets_in_environment() -> list[str]:
    """The values of secret-looking environment variables (8 characters or more)."""
    return [v for k, v in os.environ.items() if SECRET_NAME.search(k) and len(v) >= 8]


def redact(text: str) -> str:
    """Hide every secret-looking environment variable's value inside ``text``: the whole
    value, and any run of ``SECRET_RUN`` or more of its characters."""
    for secret in secrets_in_environment():
        text = _mask_runs(text, secret)
    return text


def _mask_runs(text: str, secret: str) -> str:
    """``text`` with each maximal run found inside ``secret`` (SECRET_RUN or longer) masked."""
    grams = {secret[i : i + SECRET_RUN] for i in range(len(secret) - SECRET_RUN + 1)}
    out, start = [], 0
    i = 0
    while i <= len(text) - SECRET_RUN:
        if text[i : i + SECRET_RUN] not in grams:
            i += 1
            continue
        end = i + SECRET_RUN
        while end < len(text) and text[i : end + 1] in secret:
            end += 1
        out += [text[start:i], "***"]
        start = i = end
    return "".join(out) + text[start:]


class Gateway:
    """Calls models through litellm with limits, retries, timeouts and recording; how each
    provider family is called is its ``Endpoint``'s business (``traitors.llm.endpoints``)."""

    def __init__(
        self,
        *,
        default_limit: int = 8,
        limits: Mapping[str, int] | None = None,
        timeout: float = 120.0,
        max_attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        routes: Mapping[str, list[str]] | None = None,
        json_object_routes: Collection[str] = (),
    ) -> None:
        self.default_limit = default_limit
        self.limits = dict(limits or {})
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.endpoints = Endpoints(routes, json_object_routes)
        """Each provider family's quirks; ``routes``: ``hosted/<name>`` -> OpenAI-compatible
        endpoints of the sweep's inference servers, ``json_object_routes``: those whose servers
        take a schema as ``{"type": "json_object", "schema": ...}`` (llama.cpp's server)."""
        if routes and "hosted" not in self.limits:
            servers = sum(len(endpoints) for endpoints in routes.values())
            self.limits["hosted"] = default_limit * servers
        self._semaphores: dict[tuple[int, str], asyncio.Semaphore] = {}
        self._jitter = random.Random()  # timing only; never affects what is played

    def semaphore(self, endpoint: str) -> asyncio.Semaphore:
        """The endpoint's limit, shared by every episode running on this event loop."""
        key = (id(asyncio.get_running_loop()), endpoint)
        if key not in self._semaphores:
            limit = self.limits.get(endpoint, self.default_limit)
            self._semaphores[key] = asyncio.Semaphore(limit)
        return self._semaphores[key]

    async def complete(self, request: ModelRequest, *, agent: str, log: CallLog) -> ModelResponse:
        """Run (or replay) one call for ``agent`` and record it in ``log``."""
        index = log.next_index(agent)
        key = request.key(agent, index)
        if log.recorded is not None:
            return self._replay(log, key, agent, index)
        started = time.time()
        clock = time.perf_counter()
        reply: Reply | None = None
        error: str | None = None
        kind: str | None = None
        attempts = 0
        endpoint = self.endpoints(request.model)
        async with self.semaphore(endpoint_of(request.model)):
            while True:
                attempts += 1
                try:
                    answer = await asyncio.wait_for(self._call(request), self.timeout)
                    reply = Reply(*answer)
                    error = kind = None
                    break
                except Exception as exc:
                    error = redact(f"{type(exc).__name__}: {exc}")
                    kind = endpoint.error_kind(exc)
                    reply = None
                    if kind not in RETRIED_KINDS or attempts >= self.max_attempts:
                        break
                    asked = endpoint.retry_after(exc) if kind == "rate_limit" else None
                    await asyncio.sleep(self._delay(attempts, asked))
        latency = time.perf_counter() - clock
        # A provider may echo a key; it must not reach a log or a prompt.
        text = redact(reply.text) if reply is not None else None
        reasoning = _redacted(reply.reasoning) if reply is not None else None
        refusal = _redacted(reply.refusal) if reply is not None else None
        record = CallRecord(
            agent=agent,
            index=index,
            key=key,
            model=request.model,
            messages=list(request.messages),
            params=request.params(),
            text=text,
            error=error,
            error_kind=kind,
            reasoning=reasoning,
            finish_reason=reply.finish_reason if reply is not None else None,
            refusal=refusal,
            usage=Usage(**reply.usage) if reply is not None else Usage(),
            cost=reply.cost if reply is not None else 0.0,
            cache_saving=reply.cache_saving if reply is not None else None,
            probe_score=reply.probe_score if reply is not None else None,
            latency_s=round(latency, 4),
            attempts=attempts,
            started_at=started,
        )
        log.add(record)
        return _response(record, latency, reply.activations if reply is not None else None)

    def _delay(self, attempt: int, asked: float | None = None) -> float:
        """The wait the provider ``asked`` for (its ``Retry-After``, at most ``max_backoff``),
        else exponential backoff with jitter: between half and all of backoff * 2^(attempt-1)."""
        if asked is not None:
            return min(asked, self.max_backoff)
        ceiling = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        return ceiling / 2 + self._jitter.uniform(0, ceiling / 2)

    async def _call(self, request: ModelRequest) -> Answer:
        endpoint = self.endpoints(request.model)
        endpoint.register(request.model)
        response = await endpoint.send(endpoint.prepare(request, self.timeout))
        choice = response.choices[0]
        message = choice.message
        finish = getattr(choice, "finish_reason", None)
        refusal = getattr(message, "refusal", None)
        usage = usage_counts(getattr(response, "usage", None))
        cached = usage.get("cached_tokens", 0)
        hidden = getattr(response, "_hidden_params", None) or {}
        return Reply(
            text=message.content or "",
            usage=usage,
            cost=endpoint.price(request.model, response),
            cache_saving=endpoint.cache_saving(request.model, cached) if cached else None,
            reasoning=thinking_text(message),
            finish_reason=finish if isinstance(finish, str) and finish != "stop" else None,
            refusal=refusal if isinstance(refusal, str) and refusal else None,
            activations=hidden.get("activations"),
            probe_score=hidden.get("probe_score"),
        )

    def _replay(self, log: CallLog, key: str, agent: str, index: int) -> ModelResponse:
        assert log.recorded is not None
        record = log.recorded.get(key)
        if record is None:
            raise ReplayMiss(
                f"replay miss: no recorded call for agent {agent!r}, call {index}, key {key} "
                "(the prompt differs from the recording)"
            )
        log.add(record)
        return _response(record, 0.0)


def _response(
    record: CallRecord, latency: float, activations: dict[int, list[float]] | None = None
) -> ModelResponse:
    return ModelResponse(
        record.key,
        record.text,
        record.error,
        record.usage.prompt_tokens,
        record.usage.completion_tokens,
        record.cost,
        latency,
        record.attempts,
        record.reasoning,
        record.probe_score,
        activations,
    )


def _redacted(text: str | None) -> str | None:
    return redact(text) if text else None


def _count(value: Any) -> int:
    """A token count (0 for anything that is not a number: a field the provider left out)."""
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def usage_counts(usage: Any) -> dict[str, int]:
    """``Usage``'s fields from litellm's usage: prompt and completion tokens, the prompt
    tokens read from the provider's cache (``prompt_tokens_details.cached_tokens``, Anthropic's
    ``cache_read_input_tokens``) and written to it (``cache_creation_input_tokens``), and the
    completion tokens spent thinking (``completion_tokens_details.reasoning_tokens``)."""
    prompt_details = getattr(usage, "prompt_tokens_details", None)
    completion_details = getattr(usage, "completion_tokens_details", None)
    return {
        "prompt_tokens": _count(getattr(usage, "prompt_tokens", 0)),
        "completion_tokens": _count(getattr(usage, "completion_tokens", 0)),
        "cached_tokens": _count(getattr(prompt_details, "cached_tokens", 0))
        or _count(getattr(usage, "cache_read_input_tokens", 0)),
        "cache_write_tokens": _count(getattr(usage, "cache_creation_input_tokens", 0))
        or _count(getattr(prompt_details, "cache_creation_tokens", 0)),
        "reasoning_tokens": _count(getattr(completion_details, "reasoning_tokens", 0)),
    }


def thinking_text(message: Any) -> str | None:
    """The model's own thinking in a reply: litellm's ``reasoning_content``, or the text of
    its ``thinking_blocks`` (Anthropic); None when the provider returned none."""
    content = getattr(message, "reasoning_content", None)
    if isinstance(content, str) and content.strip():
        return content
    blocks = getattr(message, "thinking_blocks", None) or []
    parts = [
        block.get("thinking")
        for block in blocks
        if isinstance(block, dict) and isinstance(block.get("thinking"), str)
    ]
    text = "\n\n".join(part for part in parts if part and part.strip())
    return text or None
