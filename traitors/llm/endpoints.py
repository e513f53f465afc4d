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

import asyncio
import functools
import re
from collections.abc import Collection, Mapping, Sequence
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
        # on an exception: endpoint.transient(exc) decides whether to retry

    Where the next pieces of work plug in (not done yet):

    - *Preflight of API keys*: a method naming the environment variables ``model`` needs
      (e.g. from ``litellm.validate_environment``), checked with ``check_model`` before a
      run; the in-process and hosted families need none.
    - *Error kinds*: ``transient`` becomes a classification (transient, auth, quota, bad
      request...) per family; today every family uses ``is_transient``.
    - *Reasoning-model parameters*: ``params`` maps the request's options to the ones the
      provider accepts (e.g. ``max_completion_tokens``, no ``temperature``).
    - *Prompt caching*: ``prepare`` marks cacheable messages, ``price`` counts cached tokens.

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

    def params(self, request: ModelRequest) -> dict[str, Any]:
        """The output-affecting options sent to the provider."""
        ...

    def prepare(self, request: ModelRequest, timeout: float) -> dict[str, Any]:
        """The keyword arguments of the litellm call for ``request``."""
        ...

    async def send(self, call: dict[str, Any]) -> Any:
        """Make the call ``prepare`` built; returns litellm's response."""
        ...

    def transient(self, exc: BaseException) -> bool:
        """Whether a call that raised ``exc`` is worth retrying."""
        ...

    def price(self, model: str, response: Any) -> float:
        """Dollars a call cost (0 where the price is unknown)."""
        ...

    def token_price(self, model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
        """Dollars these tokens would cost, or None where the price is unknown (estimates)."""
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

    def params(self, request: ModelRequest) -> dict[str, Any]:
        return request.params()

    def prepare(self, request: ModelRequest, timeout: float) -> dict[str, Any]:
        return {
            "model": request.model,
            "messages": list(request.messages),
            "max_retries": 0,  # the gateway retries
            "num_retries": 0,
            "timeout": timeout,
            **self.params(request),
        }

    async def send(self, call: dict[str, Any]) -> Any:
        return await import_litellm().acompletion(**call)

    def transient(self, exc: BaseException) -> bool:
        return is_transient(exc)

    def price(self, model: str, response: Any) -> float:
        try:
            cost: float = import_litellm().completion_cost(completion_response=response)
            return float(cost)
        except Exception:
            return 0.0  # litellm does not know this model's price

    def token_price(self, model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
        try:
            prompt_cost, completion_cost = import_litellm().cost_per_token(
                model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
            )
        except Exception:
            return None
        return float(prompt_cost) + float(completion_cost)


class InProcessEndpoint(LitellmEndpoint):
    """A model served inside this process by a litellm custom provider: registered before
    the first call, known to litellm as free, and priced here."""

    family = "in-process"

    def __init__(self) -> None:
        self._priced: set[str] = set()

    def check_model(self, model: str) -> str | None:
        return _name_problem(model)

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

    def register_provider(self) -> None:
        from traitors.llm.local import register_local_provider

        register_local_provider()


class FakeEndpoint(InProcessEndpoint):
    """``fake/<name>``: a function-backed fake, free unless its name sets a price
    (``fake/random?price=0.5``: $0.50 per 1,000 tokens, for budgets)."""

    family = "fake"

    def register_provider(self) -> None:
        from traitors.llm.fake import register_fake_provider

        register_fake_provider()

    def per_thousand(self, model: str) -> float:
        return fake_price(model)


class HostedEndpoint(LitellmEndpoint):
    """``hosted/<serve_as>``: the sweep's own inference servers, through a litellm Router
    with one deployment per server (each serves the model as ``serve_as``).

    These servers apply the chat template to the text and then parse special tokens in the
    result, so chat-template markers in message contents are broken first (a player's
    ``<|im_start|>`` stays text). Routes in ``json_object_routes`` (llama.cpp's server) take
    a JSON schema as ``{"type": "json_object", "schema": ...}``."""

    family = "hosted"

    def __init__(
        self,
        routes: Mapping[str, list[str]] | None = None,
        json_object_routes: Collection[str] = (),
    ) -> None:
        self.routes = {name: list(endpoints) for name, endpoints in (routes or {}).items()}
        """``serve_as`` -> OpenAI-compatible endpoints of the sweep's inference servers."""
        self.json_object_routes = frozenset(json_object_routes)
        self._router: Any = None

    def check_model(self, model: str) -> str | None:
        return _name_problem(model)

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
            model_list = router_model_list(self.routes)
            self._router = import_litellm().Router(model_list=model_list, num_retries=0)
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


def _name_problem(model: str) -> str | None:
    provider, slash, name = model.partition("/")
    if not slash or not name:
        return f"{model!r} names no model after {provider}/"
    return None


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
