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
from typing import Any
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict

from traitors.llm.library import import_litellm
from traitors.store.calls import CallLog, CallRecord, ReplayMiss, Usage

IN_PROCESS = frozenset({"local", "fake"})
"""Providers that run inside this process and cost nothing."""
FREE_MODEL = {
    "mode": "chat",
    "input_cost_per_token": 0.0,
    "output_cost_per_token": 0.0,
    "cache_creation_input_token_cost": 0.0,  # all four given: litellm warns of any missing
    "cache_read_input_token_cost": 0.0,
}
TRANSIENT_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
SECRET_NAME = re.compile(
    r"(?:^|_)(?:KEYS?|APIKEY|TOKENS?|SECRETS?|PASSWORD|PASSWD|CREDENTIALS?)(?:_|$)", re.IGNORECASE
)
"""Environment variables whose values are secrets: a name word (``OPENAI_API_KEY``,
``HF_TOKEN``), not a part of one (``TIKTOKEN_CACHE_DIR`` is a path)."""


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

    def params(self) -> dict[str, Any]:
        """The output-affecting options that are set."""
        names = ("temperature", "max_tokens", "seed", "response_format", "stop")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}

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

    @property
    def call_id(self) -> str:
        """Short id used to link decisions to calls."""
        return self.key[:16]


SECRET_RUN = 4
"""Shortest run of a secret's characters that is masked (a provider may echo a key partly
masked, e.g. ``sk-tes****123456``: both runs are masked)."""
MARKER = re.compile(
    r"<(?=\|[^<>|\s]{1,40}\|>|/?s>|/?(?:start|end)_of_turn>|bos>|eos>)|\[(?=/?INST\])"
)
"""The opening character of chat-template markers (``<|im_start|>``, ``<start_of_turn>``,
``</s>``, ``[INST]``...)."""


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


def neutralize_markers(text: str) -> str:
    """``text`` with chat-template markers broken (``<|im_start|>`` -> ``‹|im_start|>``), for
    servers that apply a template to the text and then parse special tokens in it."""
    return MARKER.sub("‹", text)


def is_transient(exc: BaseException) -> bool:
    """Timeouts, rate limits, 5xx and connection errors are worth retrying; the rest are not."""
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | ConnectionError):
        return True
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and status in TRANSIENT_STATUS:
        return True
    name = type(exc).__name__
    return name in {
        "Timeout",
        "RateLimitError",
        "APIConnectionError",
        "ServiceUnavailableError",
        "InternalServerError",
    }


def fake_price(model: str) -> float:
    """Dollars per 1,000 tokens of a priced fake (``fake/random?price=0.5``); 0 otherwise."""
    if endpoint_of(model) != "fake":
        return 0.0
    options = parse_qs(model.partition("?")[2])
    return float(options.get("price", ["0"])[0])


def endpoint_of(model: str) -> str:
    """The endpoint a model is served by: its provider prefix (``openai``, ``local``, ...)."""
    return model.split("/", 1)[0] if "/" in model else model


class Gateway:
    """Calls models through litellm with limits, retries, timeouts and recording."""

    def __init__(
        self,
        *,
        default_limit: int = 8,
        limits: Mapping[str, int] | None = None,
        timeout: float = 120.0,
        max_attempts: int = 4,
        backoff: float = 1.0,
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
        self.routes = {name: list(endpoints) for name, endpoints in (routes or {}).items()}
        """``hosted/<name>`` -> OpenAI-compatible endpoints of the sweep's inference servers."""
        if self.routes and "hosted" not in self.limits:
            servers = sum(len(endpoints) for endpoints in self.routes.values())
            self.limits["hosted"] = default_limit * servers
        self.json_object_routes = frozenset(json_object_routes)
        """Routes whose servers take a schema as ``{"type": "json_object", "schema": ...}``
        (llama.cpp's server) instead of OpenAI's ``json_schema`` form."""
        self._router: Any = None
        self._priced: set[str] = set()
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
        text: str | None = None
        error: str | None = None
        usage = {"prompt_tokens": 0, "completion_tokens": 0}
        cost = 0.0
        attempts = 0
        async with self.semaphore(endpoint_of(request.model)):
            while True:
                attempts += 1
                try:
                    text, usage, cost = await asyncio.wait_for(self._call(request), self.timeout)
                    error = None
                    break
                except Exception as exc:
                    error = redact(f"{type(exc).__name__}: {exc}")
                    text = None
                    if not is_transient(exc) or attempts >= self.max_attempts:
                        break
                    await asyncio.sleep(self._delay(attempts))
        latency = time.perf_counter() - clock
        if text is not None:
            text = redact(text)  # a provider may echo a key; it must not reach a log or prompt
        record = CallRecord(
            agent=agent,
            index=index,
            key=key,
            model=request.model,
            messages=list(request.messages),
            params=request.params(),
            text=text,
            error=error,
            usage=Usage(**usage),
            cost=cost,
            latency_s=round(latency, 4),
            attempts=attempts,
            started_at=started,
        )
        log.add(record)
        return _response(record, latency)

    def _delay(self, attempt: int) -> float:
        """Exponential backoff with jitter: between half and all of backoff * 2^(attempt-1)."""
        ceiling = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        return ceiling / 2 + self._jitter.uniform(0, ceiling / 2)

    async def _call(self, request: ModelRequest) -> tuple[str, dict[str, int], float]:
        litellm = import_litellm()
        endpoint = endpoint_of(request.model)
        if endpoint == "local":
            from traitors.llm.local import register_local_provider

            register_local_provider()
        elif endpoint == "fake":
            from traitors.llm.fake import register_fake_provider

            register_fake_provider()
        if endpoint in IN_PROCESS and request.model not in self._priced:
            # Known to litellm as free: its cost lookup then skips a slow search per call.
            litellm.register_model({request.model: {**FREE_MODEL, "litellm_provider": endpoint}})
            self._priced.add(request.model)
        options = {"num_retries": 0, "timeout": self.timeout, **request.params()}
        messages = list(request.messages)
        if endpoint_of(request.model) == "hosted":
            # These servers template the messages and then parse special tokens in the result:
            # a player's "<|im_start|>" must stay text.
            messages = [{**m, "content": neutralize_markers(m["content"])} for m in messages]
            name = request.model.split("/", 1)[1]
            if name in self.json_object_routes and request.response_format:
                options["response_format"] = as_json_object(request.response_format)
            response = await self._hosted(litellm).acompletion(name, messages, **options)
        else:
            response = await litellm.acompletion(
                model=request.model, messages=messages, max_retries=0, **options
            )
        text = response.choices[0].message.content or ""
        usage = getattr(response, "usage", None)
        counts = {
            "prompt_tokens": int(getattr(usage, "prompt_tokens", 0) or 0),
            "completion_tokens": int(getattr(usage, "completion_tokens", 0) or 0),
        }
        return text, counts, _cost(litellm, response, request.model)

    def _hosted(self, litellm: Any) -> Any:
        """A litellm Router spreading ``hosted/<name>`` calls over the inference servers."""
        if self._router is None:
            if not self.routes:
                raise ValueError("hosted/* models need the sweep's inference servers (routes)")
            model_list = router_model_list(self.routes)
            self._router = litellm.Router(model_list=model_list, num_retries=0)
        return self._router

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


def _response(record: CallRecord, latency: float) -> ModelResponse:
    return ModelResponse(
        record.key,
        record.text,
        record.error,
        record.usage.prompt_tokens,
        record.usage.completion_tokens,
        record.cost,
        latency,
        record.attempts,
    )


def as_json_object(response_format: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's ``json_schema`` response format in the ``json_object`` + schema form."""
    schema = response_format.get("json_schema", {}).get("schema")
    if response_format.get("type") != "json_schema" or schema is None:
        return response_format
    return {"type": "json_object", "schema": schema}


def router_model_list(routes: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    """A litellm Router deployment per endpoint; each server serves the model as ``name``."""
    return [
        {
            "model_name": name,
            "litellm_params": {"model": f"openai/{name}", "api_base": endpoint, "api_key": "none"},
        }
        for name, endpoints in routes.items()
        for endpoint in endpoints
    ]


def _cost(litellm: Any, response: Any, model: str) -> float:
    if endpoint_of(model) in IN_PROCESS:  # in-process models cost nothing, but a priced fake
        usage = getattr(response, "usage", None)
        tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        tokens += int(getattr(usage, "completion_tokens", 0) or 0)
        return fake_price(model) * tokens / 1000
    try:
        cost: float = litellm.completion_cost(completion_response=response)
        return float(cost)
    except Exception:
        return 0.0  # litellm does not know this model's price
