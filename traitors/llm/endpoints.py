"""Provider quirks in one place: one small class per endpoint family, behind ``Endpoint``.

A model's provider prefix picks its family:

========  =====================================================================================
family    models
========  =====================================================================================
local     ``local/<preset or file.gguf>``: llama.cpp in this process (``traitors.llm.local``)
fake      ``fake/<name>``: a function-backed fake in this process (``traitors.llm.fake``)
hosted    ``hosted/<serve_as>``: a sweep's own inference servers (llama.cpp, vLLM), reached
          through a litellm Router over their OpenAI-compatible endpoints
litellm   anything else litellm routes (``openai/...``, ``anthropic/...``, ``ollama/...``)
========  =====================================================================================

Everything that differs between providers lives here: which names are valid (checked when a
spec is read), what must be registered with litellm before a call, the keyword arguments of
the litellm call, how the call is sent, which errors are worth retrying and what a call costs.
The gateway owns what does not differ (limits, retries, timeouts, recording, replay).

Nothing here imports litellm at import time (it takes seconds): ``import_litellm`` does, on
the first call that needs it.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Collection, Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs

from traitors.llm.library import import_litellm

if TYPE_CHECKING:
    from traitors.llm.gateway import ModelRequest
    from traitors.sweep.spec import InferenceSpec

LOCAL_PRESETS = ("smollm2-135m", "gemma3-270m")
"""The embedded models (``local/<preset>``), shipped as pip packages (the keys of
``traitors.llm.local.PRESETS``, which cannot be imported without llama.cpp and litellm)."""
OWN_PROVIDERS = ("local", "fake", "hosted")
"""The provider prefixes this package serves itself; any other goes to litellm."""
FREE_MODEL = {
    "mode": "chat",
    "input_cost_per_token": 0.0,
    "output_cost_per_token": 0.0,
    "cache_creation_input_token_cost": 0.0,  # all four given: litellm warns of any missing
    "cache_read_input_token_cost": 0.0,
}
"""litellm's price entry for an in-process model."""
TRANSIENT_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
"""HTTP statuses worth retrying."""
RETRIED_KINDS = frozenset({"rate_limit", "timeout", "transient"})
"""Error kinds worth retrying. The others are not: ``auth`` (a bad or missing key),
``permission``, ``not_found`` (an unknown model), ``bad_request``, ``context_length``,
``content_policy`` and ``other`` (anything unknown, e.g. a bug in a custom provider)."""
ERROR_KINDS = (
    "auth",
    "permission",
    "not_found",
    "bad_request",
    "context_length",
    "content_policy",
    "rate_limit",
    "timeout",
    "transient",
    "other",
)
"""Every error kind ``error_kind`` gives, as a call record's ``error_kind`` names it."""
MISSING_CREDENTIALS = re.compile(
    r"missing credentials|api_key client option must be set|missing \w+ api key"
    r"|no (?:api )?key is set|api key not valid",
    re.IGNORECASE,
)
"""How providers (through litellm) say that no key or a bad one was given, whatever status
and exception type litellm reports it with (a missing ``OPENAI_API_KEY`` is an
``InternalServerError`` 500, a missing Gemini key an ``APIConnectionError``)."""
CONTEXT_LENGTH = re.compile(
    r"context[ _]length|context window|maximum context|prompt is too long"
    r"|input token count .{0,40}exceeds",
    re.IGNORECASE,
)
"""A bad request whose prompt is too long for the model (when litellm does not say it with
``ContextWindowExceededError``)."""
CONTENT_POLICY = re.compile(
    r"content[ _]policy|content[ _]filter|content management policy|safety system",
    re.IGNORECASE,
)
"""A bad request refused by the provider's content policy (when litellm does not say it with
``ContentPolicyViolationError``)."""
ANTHROPIC_MIN_THINKING_BUDGET = 1024
"""Anthropic's smallest thinking budget."""
EFFORT_BUDGET = {"low": 1024, "medium": 2048, "high": 4096}
"""The thinking budget litellm gives an Anthropic model for each ``reasoning_effort``
(its ``DEFAULT_REASONING_EFFORT_*_THINKING_BUDGET``): added to ``max_tokens``."""
CACHE_BREAKPOINT = {"cache_control": {"type": "ephemeral"}}
"""An Anthropic prompt-cache breakpoint, as litellm takes it on a message's content."""
MAX_RETRY_AFTER = 300.0
"""Longest wait a ``Retry-After`` may ask for, in seconds, whatever the gateway's own cap."""
JSON_OBJECT_SERVERS = frozenset({"llama_cpp"})
"""Inference server kinds that take a schema as ``{"type": "json_object", "schema": ...}``
instead of OpenAI's ``json_schema`` form."""
MARKER = re.compile(
    r"<(?=\|[^<>|\s]{1,40}\|>|/?s>|/?(?:start|end)_of_turn>|bos>|eos>)|\[(?=/?INST\])"
)
"""The opening character of chat-template markers (``<|im_start|>``, ``<start_of_turn>``,
``</s>``, ``[INST]``...)."""


def endpoint_of(model: str) -> str:
    """The endpoint a model is served by: its provider prefix (``openai``, ``local``, ...)."""
    return model.split("/", 1)[0] if "/" in model else model


class Endpoint(Protocol):
    """How one family of providers is called. The gateway, for each call::

        endpoint.register(model)                      # once per model is enough
        response = await endpoint.send(endpoint.prepare(request, timeout))
        cost = endpoint.price(model, response)
        # on an exception: endpoint.error_kind(exc) names it, and only the kinds in
        # RETRIED_KINDS are retried, a rate limit after endpoint.retry_after(exc) seconds

    Reasoning models: ``check_options`` refuses, when a spec is read, the agent options a
    model does not take (``reasoning_effort``, ``thinking_budget``, ``api_base``); ``params``
    drops or translates, by litellm's supported-parameter lookup, the options a model does not
    take. Prompt caching: ``prepare`` sets cache breakpoints where the provider takes them; the
    gateway records cached tokens and ``price`` (litellm's ``completion_cost``) prices them.

    Where the next piece of work plugs in (not done yet): *preflight of API keys*, a method
    naming the environment variables ``model`` needs (e.g. from
    ``litellm.validate_environment``), checked with ``check_model`` before a run; the
    in-process and hosted families need none. (Today a missing key is an ``auth`` error at the
    first call, which stops the episode.)

    Whatever ``params`` and ``prepare`` change reaches the provider only: the request, its
    key and ``calls.jsonl`` keep the options the agent asked for, so replays do not move.
    """

    family: str
    """``local``, ``fake``, ``hosted`` or ``litellm``."""

    def check_model(self, model: str) -> str | None:
        """Why ``model`` cannot be served by this family, or None (when a spec is read)."""
        ...

    def register(self, model: str) -> None:
        """Make litellm able to serve ``model`` (idempotent; before each call)."""
        ...

    def check_options(self, model: str, options: Mapping[str, Any]) -> tuple[str, str] | None:
        """The agent option (of ``reasoning_effort``, ``thinking_budget``, ``api_base``: those
        set) ``model`` does not take, and why; or None (when a spec is read)."""
        ...

    def params(self, request: ModelRequest) -> dict[str, Any]:
        """The output-affecting options sent to the provider."""
        ...

    def prepare(self, request: ModelRequest, timeout: float) -> dict[str, Any]:
        """The keyword arguments of the litellm call for ``request``."""
        ...

    async def send(self, call: dict[str, Any]) -> Any:
        """Make the call ``prepare`` built; returns litellm's response."""
        ...

    def error_kind(self, exc: BaseException) -> str:
        """What kind of error ``exc`` is (one of ``ERROR_KINDS``)."""
        ...

    def transient(self, exc: BaseException) -> bool:
        """Whether a call that raised ``exc`` is worth retrying."""
        ...

    def retry_after(self, exc: BaseException) -> float | None:
        """Seconds the provider asked to wait before the next call (``Retry-After``), or None."""
        ...

    def price(self, model: str, response: Any) -> float:
        """Dollars a call cost (0 where the price is unknown)."""
        ...

    def token_price(self, model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
        """Dollars these tokens would cost, or None where the price is unknown (estimates)."""
        ...

    def cache_saving(self, model: str, cached_tokens: int) -> float:
        """Dollars ``cached_tokens`` prompt tokens read from the provider's cache saved
        against its full input price (0 where either price is unknown)."""
        ...


class LitellmEndpoint:
    """Any provider litellm routes (``openai/``, ``anthropic/``...): the request passes
    through, priced at litellm's prices. The other families build on this one."""

    family = "litellm"

    def check_model(self, model: str) -> str | None:
        try:
            import_litellm().get_llm_provider(model)
        except Exception:
            return f"no provider serves {model!r} (write provider/model, e.g. openai/gpt-4o-mini)"
        return None

    def register(self, model: str) -> None:
        """Nothing to register: litellm knows its providers."""

    def check_options(self, model: str, options: Mapping[str, Any]) -> tuple[str, str] | None:
        supported = supported_params(model)
        if supported is None:
            return None  # litellm cannot tell: the provider will
        if options.get("reasoning_effort") and "reasoning_effort" not in supported:
            return "reasoning_effort", f"{model} takes no reasoning_effort (not a reasoning model)"
        if budget := options.get("thinking_budget"):
            if "thinking" not in supported:
                return "thinking_budget", f"{model} takes no thinking budget"
            if provider_of(model) == "anthropic" and budget < ANTHROPIC_MIN_THINKING_BUDGET:
                least = ANTHROPIC_MIN_THINKING_BUDGET
                return "thinking_budget", f"Anthropic's thinking budget is at least {least} tokens"
        return None

    def params(self, request: ModelRequest) -> dict[str, Any]:
        """The options the agent asked for, those the model does not take dropped (litellm's
        supported-parameter lookup: no ``seed`` for Anthropic, no ``stop`` for GPT-5) or
        translated: ``thinking_budget`` becomes ``thinking``; a thinking Anthropic model gets
        no ``temperature`` (it takes only the default) and its ``max_tokens`` grows by the
        thinking budget (which it counts); OpenAI's reasoning models get no ``temperature``
        but 1. A request to a model that takes all it asks for is sent as asked."""
        sent = request.params()
        effort = sent.pop("reasoning_effort", None)
        budget = sent.pop("thinking_budget", None)
        if effort is not None:
            sent["reasoning_effort"] = effort
        if budget is not None:
            sent["thinking"] = {"type": "enabled", "budget_tokens": budget}
        supported = supported_params(request.model)
        if supported is None:
            return sent
        sent = {name: value for name, value in sent.items() if name in supported}
        provider = provider_of(request.model)
        thinks = "reasoning_effort" in sent or "thinking" in sent
        if thinks and provider == "anthropic":
            sent.pop("temperature", None)
            if "max_tokens" in sent:
                sent["max_tokens"] += budget or EFFORT_BUDGET.get(str(effort), 0)
        if (
            provider in ("openai", "azure")
            and sent.get("temperature", 1) != 1
            and is_reasoning_model(request.model)
        ):
            del sent["temperature"]
        return sent

    def prepare(self, request: ModelRequest, timeout: float) -> dict[str, Any]:
        messages = list(request.messages)
        if "cache_control" in (supported_params(request.model) or ()):
            messages = with_cache_breakpoints(messages, request.stable_messages)
        call = {
            "model": request.model,
            "messages": messages,
            "max_retries": 0,  # the gateway retries
            "num_retries": 0,
            "timeout": timeout,
            **self.params(request),
        }
        if request.api_base:
            call["api_base"] = request.api_base
        return call

    async def send(self, call: dict[str, Any]) -> Any:
        return await import_litellm().acompletion(**call)

    def error_kind(self, exc: BaseException) -> str:
        return error_kind(exc)

    def transient(self, exc: BaseException) -> bool:
        return is_transient(exc)

    def retry_after(self, exc: BaseException) -> float | None:
        return retry_after(exc)

    def price(self, model: str, response: Any) -> float:
        try:
            cost: float = import_litellm().completion_cost(completion_response=response)
            return float(cost)
        except Exception:
            return 0.0  # litellm does not know this model's price

    def cache_saving(self, model: str, cached_tokens: int) -> float:
        try:
            info = import_litellm().get_model_info(model)
            full, cached = info["input_cost_per_token"], info["cache_read_input_token_cost"]
            return max(0.0, float(full) - float(cached)) * cached_tokens
        except Exception:  # no price, or no cached price, for this model
            return 0.0

    def token_price(self, model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
        try:
            prompt_cost, completion_cost = import_litellm().cost_per_token(
                model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
            )
        except Exception:
            return None
        return float(prompt_cost) + float(completion_cost)


class OwnEndpoint(LitellmEndpoint):
    """A family this project serves itself: its names are checked here, it takes no
    ``api_base``, and no reasoning options (unless a subclass takes them)."""

    family = "own"
    served = "is served by this project"
    """How an option's refusal says where the model runs."""
    refused: tuple[str, ...] = ("reasoning_effort", "thinking_budget")
    """Agent options this family refuses (besides ``api_base``)."""

    def check_model(self, model: str) -> str | None:
        return _name_problem(model)

    def check_options(self, model: str, options: Mapping[str, Any]) -> tuple[str, str] | None:
        for name in ("api_base", *self.refused):
            if options.get(name):
                return name, f"{model} {self.served}: it takes no {name}"
        return None

    def params(self, request: ModelRequest) -> dict[str, Any]:
        sent = request.params()
        sent.pop("reasoning_effort", None)
        sent.pop("thinking_budget", None)
        return sent


class InProcessEndpoint(OwnEndpoint):
    """A model served inside this process by a litellm custom provider: registered before
    the first call, known to litellm as free, and priced here."""

    family = "in-process"
    served = "is served in this process"

    def __init__(self) -> None:
        self._priced: set[str] = set()

    def prepare(self, request: ModelRequest, timeout: float) -> dict[str, Any]:
        return {
            "model": request.model,
            "messages": list(request.messages),
            "max_retries": 0,  # the gateway retries
            "num_retries": 0,
            "timeout": timeout,
            **self.params(request),
        }

    def register(self, model: str) -> None:
        self.register_provider()
        if model not in self._priced:
            # Known to litellm as free: its cost lookup then skips a slow search per call.
            litellm = import_litellm()
            litellm.register_model({model: {**FREE_MODEL, "litellm_provider": self.family}})
            self._priced.add(model)

    def register_provider(self) -> None:
        """Add this family's custom provider to litellm (idempotent)."""
        raise NotImplementedError

    def per_thousand(self, model: str) -> float:
        """Dollars per 1,000 tokens (prompt and completion alike)."""
        return 0.0

    def cache_saving(self, model: str, cached_tokens: int) -> float:
        return 0.0

    def price(self, model: str, response: Any) -> float:
        usage = getattr(response, "usage", None)
        tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        tokens += int(getattr(usage, "completion_tokens", 0) or 0)
        return self.per_thousand(model) * tokens / 1000

    def token_price(self, model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
        return self.per_thousand(model) * (prompt_tokens + completion_tokens) / 1000


class LocalEndpoint(InProcessEndpoint):
    """``local/<preset or file.gguf>``: the embedded llama.cpp model, free."""

    family = "local"

    def check_model(self, model: str) -> str | None:
        if problem := _name_problem(model):
            return problem
        name = model.partition("/")[2]
        if name not in LOCAL_PRESETS and not name.endswith(".gguf"):
            return f"unknown local model {name!r}: use {', '.join(LOCAL_PRESETS)} or a .gguf path"
        return None

    def prepare(self, request: ModelRequest, timeout: float) -> dict[str, Any]:
        """The in-process call, asking for the reply's hidden states (and their probe score)
        when the request does."""
        call = super().prepare(request, timeout)
        if request.activations:
            call["activations"] = True
            if request.probe:
                call["probe"] = request.probe
        return call

    def register_provider(self) -> None:
        from traitors.llm.local import register_local_provider

        register_local_provider()


class FakeEndpoint(InProcessEndpoint):
    """``fake/<name>``: a function-backed fake, free unless its name sets a price
    (``fake/random?price=0.5``: $0.50 per 1,000 tokens, for budgets). It stands in for any
    model, so it takes the reasoning options (and does not think)."""

    family = "fake"
    refused = ()

    def register_provider(self) -> None:
        from traitors.llm.fake import register_fake_provider

        register_fake_provider()

    def per_thousand(self, model: str) -> float:
        return fake_price(model)


class HostedEndpoint(OwnEndpoint):
    """``hosted/<serve_as>``: the sweep's own inference servers, through a litellm Router
    with one deployment per server (each serves the model as ``serve_as``).

    These servers apply the chat template to the text and then parse special tokens in the
    result, so chat-template markers in message contents are broken first (a player's
    ``<|im_start|>`` stays text). Routes in ``json_object_routes`` (llama.cpp's server) take
    a JSON schema as ``{"type": "json_object", "schema": ...}``."""

    family = "hosted"
    served = "runs on the sweep's own servers"

    def __init__(
        self,
        routes: Mapping[str, list[str]] | None = None,
        json_object_routes: Collection[str] = (),
    ) -> None:
        self.routes = {name: list(endpoints) for name, endpoints in (routes or {}).items()}
        """``serve_as`` -> OpenAI-compatible endpoints of the sweep's inference servers."""
        self.json_object_routes = frozenset(json_object_routes)
        self._router: Any = None

    def prepare(self, request: ModelRequest, timeout: float) -> dict[str, Any]:
        name = request.model.split("/", 1)[1]
        options = {"num_retries": 0, "timeout": timeout, **self.params(request)}
        if name in self.json_object_routes and request.response_format:
            options["response_format"] = as_json_object(request.response_format)
        messages = [{**m, "content": neutralize_markers(m["content"])} for m in request.messages]
        return {"model": name, "messages": messages, **options}

    async def send(self, call: dict[str, Any]) -> Any:
        options = dict(call)
        model, messages = options.pop("model"), options.pop("messages")
        return await self.router().acompletion(model, messages, **options)

    def router(self) -> Any:
        """The litellm Router spreading calls over the inference servers (built once)."""
        if self._router is None:
            if not self.routes:
                raise ValueError("hosted/* models need the sweep's inference servers (routes)")
            self._router = hosted_router(self.routes, num_retries=0)
        return self._router

    def token_price(self, model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
        return 0.0  # our own servers


class Endpoints:
    """One endpoint of each family, picked by a model's provider prefix. A gateway holds one
    table, so state (the hosted Router, the models registered as free) lives as long as it."""

    def __init__(
        self,
        routes: Mapping[str, list[str]] | None = None,
        json_object_routes: Collection[str] = (),
    ) -> None:
        self.families: dict[str, Endpoint] = {
            "local": LocalEndpoint(),
            "fake": FakeEndpoint(),
            "hosted": HostedEndpoint(routes, json_object_routes),
        }
        self.default: Endpoint = LitellmEndpoint()

    def __call__(self, model: str) -> Endpoint:
        """The endpoint serving ``model``."""
        return self.families.get(endpoint_of(model), self.default)


@functools.cache
def _endpoints() -> Endpoints:
    return Endpoints()


def endpoint_for(model: str) -> Endpoint:
    """The endpoint serving ``model``, without a gateway's routes: for checks and prices."""
    return _endpoints()(model)


def hosted_options(specs: Sequence[InferenceSpec], routes: dict[str, list[str]]) -> dict[str, Any]:
    """Gateway options reaching a sweep's inference servers."""
    json_object = [spec.serve_as for spec in specs if spec.kind in JSON_OBJECT_SERVERS]
    return {"routes": routes, "json_object_routes": json_object}


@functools.lru_cache(maxsize=512)
def provider_of(model: str) -> str | None:
    """litellm's provider of ``model`` (``openai``, ``anthropic``, ``gemini``...), or None."""
    try:
        provider: str = import_litellm().get_llm_provider(model)[1]
    except Exception:
        return None
    return provider


@functools.lru_cache(maxsize=512)
def supported_params(model: str) -> frozenset[str] | None:
    """The OpenAI-style parameters litellm sends ``model`` (its supported-parameter lookup),
    or None when it cannot tell."""
    litellm = import_litellm()
    try:
        name, provider, *_ = litellm.get_llm_provider(model)
        found = litellm.get_supported_openai_params(model=name, custom_llm_provider=provider)
    except Exception:
        return None
    return frozenset(found) if found else None


@functools.lru_cache(maxsize=512)
def is_reasoning_model(model: str) -> bool:
    """Whether litellm's model map marks ``model`` as a reasoning model."""
    try:
        return bool(import_litellm().supports_reasoning(model=model))
    except Exception:
        return False


def with_cache_breakpoints(
    messages: list[dict[str, Any]], stable: int | None
) -> list[dict[str, Any]]:
    """``messages`` with Anthropic cache breakpoints (litellm's ``cache_control``) on the
    system message and on the last of the ``stable`` leading messages."""
    marked = {0} if messages and messages[0].get("role") == "system" else set()
    if stable:
        marked.add(min(stable, len(messages)) - 1)
    return [
        {**m, "content": [{"type": "text", "text": m["content"], **CACHE_BREAKPOINT}]}
        if i in marked and isinstance(m.get("content"), str)
        else m
        for i, m in enumerate(messages)
    ]


def _name_problem(model: str) -> str | None:
    provider, slash, name = model.partition("/")
    if not slash or not name:
        return f"{model!r} names no model after {provider}/"
    return None


def error_kind(exc: BaseException) -> str:
    """What kind of error a call raised, from litellm's exception type, the HTTP status and,
    where litellm reports one kind as another, the message (see ``ERROR_KINDS``)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    text = str(exc)
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None
    if "AuthenticationError" in names or MISSING_CREDENTIALS.search(text):
        return "auth"
    if isinstance(exc, TimeoutError) or names & {"Timeout", "APITimeoutError"} or status == 408:
        return "timeout"
    if "ContextWindowExceededError" in names:
        return "context_length"
    if "ContentPolicyViolationError" in names:
        return "content_policy"
    by_status = {401: "auth", 403: "permission", 404: "not_found", 429: "rate_limit"}
    if status in by_status:
        return by_status[status]
    by_name = {
        "PermissionDeniedError": "permission",
        "NotFoundError": "not_found",
        "RateLimitError": "rate_limit",
    }
    for name, kind in by_name.items():
        if name in names:
            return kind
    refused = names & {"BadRequestError", "UnprocessableEntityError", "UnsupportedParamsError"}
    if refused or (status is not None and 400 <= status < 500 and status not in TRANSIENT_STATUS):
        if CONTEXT_LENGTH.search(text):
            return "context_length"
        if CONTENT_POLICY.search(text):
            return "content_policy"
        return "bad_request"
    transient_names = {
        "APIConnectionError",
        "ServiceUnavailableError",
        "InternalServerError",
        "BadGatewayError",
    }
    if isinstance(exc, ConnectionError) or status in TRANSIENT_STATUS or names & transient_names:
        return "transient"
    return "other"


def is_transient(exc: BaseException) -> bool:
    """Timeouts, rate limits, 5xx and connection errors are worth retrying; the rest are not
    (a missing or bad key, an unknown model, a bad request, a prompt too long, a refusal)."""
    return error_kind(exc) in RETRIED_KINDS


def retry_after(exc: BaseException, now: float | None = None) -> float | None:
    """The wait a rate-limited provider asked for: ``retry-after-ms``, or ``Retry-After`` in
    seconds or as an HTTP date, from the headers of the exception's response (or those litellm
    kept); at most ``MAX_RETRY_AFTER``. None when none is given."""
    kept = getattr(exc, "litellm_response_headers", None)
    for headers in (kept, getattr(getattr(exc, "response", None), "headers", None)):
        if not headers:
            continue
        found = {str(k).lower(): str(v) for k, v in dict(headers).items()}
        if (value := found.get("retry-after-ms")) is not None:
            seconds = _number(value)
            if seconds is not None:
                return min(max(seconds / 1000, 0.0), MAX_RETRY_AFTER)
        if (value := found.get("retry-after")) is not None:
            seconds = _number(value)
            if seconds is None:
                try:
                    seconds = parsedate_to_datetime(value).timestamp() - (now or time.time())
                except (TypeError, ValueError, IndexError, OverflowError):
                    continue
            return min(max(seconds, 0.0), MAX_RETRY_AFTER)
    return None


def _number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def fake_price(model: str) -> float:
    """Dollars per 1,000 tokens of a priced fake (``fake/random?price=0.5``); 0 otherwise."""
    if endpoint_of(model) != "fake":
        return 0.0
    options = parse_qs(model.partition("?")[2])
    return float(options.get("price", ["0"])[0])


def neutralize_markers(text: str) -> str:
    """``text`` with chat-template markers broken (``<|im_start|>`` -> ``‹|im_start|>``), for
    servers that apply a template to the text and then parse special tokens in it."""
    return MARKER.sub("‹", text)


def as_json_object(response_format: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's ``json_schema`` response format in the ``json_object`` + schema form."""
    schema = response_format.get("json_schema", {}).get("schema")
    if response_format.get("type") != "json_schema" or schema is None:
        return response_format
    return {"type": "json_object", "schema": schema}


def hosted_router(routes: Mapping[str, list[str]], **options: Any) -> Any:
    """A litellm ``Router`` over the inference servers' ``routes`` (``serve_as`` -> endpoints),
    litellm imported with the project's offline settings (its bundled cost map)."""
    return import_litellm().Router(model_list=router_model_list(routes), **options)


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
