"""A provider simulator for wire-level tests: a small HTTP server on loopback that speaks
OpenAI chat completions (``POST /v1/chat/completions``), Anthropic Messages (``POST
/v1/messages``) and Gemini generateContent (``POST /v1beta/models/{model}:generateContent``)
in the shapes their API references document, so that litellm's own provider code builds the
requests and parses the replies.

A test scripts what comes back, independently of the API the request came in: a ``Turn`` (a
reply: text, or the request's JSON schema filled; thinking; why it stopped; token counts) or a
``Failure`` (an HTTP error in the API's own error shape, with an optional ``Retry-After``),
queued with ``reply(...)`` or chosen per request by ``respond``. Every request is kept in
``requests`` with its parsed body.

It is bounded: it listens on 127.0.0.1 only, answers at most ``max_requests`` requests (then a
400 nobody retries), shuts itself down after ``lifetime`` seconds, and a slow reply waits at
most its ``delay`` (cut short when the server stops).
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from traitors.llm.fake import FILLER_TEXT, fill_schema

FILL = None
"""``Turn.text`` for: the request's JSON schema, filled (free text when it has none)."""


@dataclass(frozen=True)
class Turn:
    """A successful reply, in whichever API the request came in."""

    text: str | None = FILL
    """The reply's text; ``FILL``: the request's schema filled with valid values."""
    thinking: str | None = None
    """The model's thinking (OpenAI-compatible ``reasoning_content``, Anthropic thinking
    blocks, Gemini thought parts)."""
    finish: str = "stop"
    """``stop``, ``length`` (cut by max tokens), ``content_filter`` or ``refusal``."""
    refusal: str = "I can't help with that."
    """What a refusal says."""
    prompt_tokens: int | None = None
    """Prompt tokens reported (None: estimated from the request), cached ones included."""
    completion_tokens: int | None = None
    """Completion tokens reported (None: estimated from the text), thinking included."""
    cached_tokens: int = 0
    """Prompt tokens read from the cache."""
    cache_write_tokens: int = 0
    """Prompt tokens written to the cache (Anthropic)."""
    reasoning_tokens: int = 0
    """Completion tokens spent thinking."""
    delay: float = 0.0
    """Seconds to wait before answering."""


@dataclass(frozen=True)
class Failure:
    """An HTTP error in the API's own error shape."""

    status: int
    """HTTP status."""
    message: str = "simulated failure"
    """The error's message."""
    code: str | None = None
    """OpenAI's error ``code`` (``context_length_exceeded``, ``content_policy_violation``)."""
    retry_after: str | None = None
    """A ``Retry-After`` header (seconds or an HTTP date)."""
    delay: float = 0.0
    """Seconds to wait before answering."""


Step = Turn | Failure


@dataclass(frozen=True)
class SimRequest:
    """One request the simulator received."""

    api: str
    """``openai``, ``anthropic`` or ``gemini``."""
    path: str
    """The request path (query included)."""
    headers: dict[str, str]
    """Its headers, names lower-cased."""
    body: dict[str, Any]
    """Its JSON body."""

    @property
    def prompt(self) -> str:
        """Every text of the request's messages (system included), joined."""
        system = self.body.get("system") or self.body.get("system_instruction")
        return "\n".join(_texts(system) + _texts(self.messages()))

    def messages(self) -> list[Any]:
        """The request's messages (Gemini: its contents)."""
        found = self.body.get("messages") or self.body.get("contents") or []
        return list(found)

    def last_user_text(self) -> str:
        """The text of the last message (the question asked)."""
        messages = self.messages()
        return "\n".join(_texts(messages[-1:])) if messages else ""

    def schema(self) -> dict[str, Any] | None:
        """The JSON schema the reply must follow, in whichever form litellm sent it."""
        body = self.body
        if self.api == "openai":
            found = (body.get("response_format") or {}).get("json_schema", {}).get("schema")
            return found if isinstance(found, dict) else None
        if self.api == "anthropic":
            for tool in body.get("tools") or []:
                if tool.get("name") == ANTHROPIC_JSON_TOOL:
                    return dict(tool.get("input_schema") or {})
            output = (body.get("output_format") or {}).get("schema")
            return output if isinstance(output, dict) else None
        config = body.get("generationConfig") or {}
        for name in ("response_json_schema", "responseJsonSchema", "response_schema"):
            if isinstance(config.get(name), dict):
                return dict(config[name])
        return None

    def uses_json_tool(self) -> bool:
        """Whether the request asks for the reply through litellm's JSON tool (Anthropic)."""
        return any(t.get("name") == ANTHROPIC_JSON_TOOL for t in self.body.get("tools") or [])


ANTHROPIC_JSON_TOOL = "json_tool_call"
"""The tool litellm asks an Anthropic model to call with its structured reply."""


def _texts(value: Any) -> list[str]:
    """Every ``text`` / ``content`` string inside a message, part or list of them."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    if isinstance(value, dict):
        found: list[str] = []
        for key in ("text", "content", "parts"):
            if key in value:
                found += _texts(value[key])
        return found
    return []


def filled(request: SimRequest) -> str:
    """A valid reply to ``request``: its schema filled, seeded by the prompt (free text when
    it asks for none)."""
    rng = random.Random(hashlib.sha256(request.prompt.encode()).digest())
    schema = request.schema()
    if schema is None:
        return rng.choice(FILLER_TEXT)
    return json.dumps(fill_schema(schema, rng))


@dataclass
class ProviderSim:
    """The simulator: ``start()``, point litellm at ``openai_base`` / ``anthropic_base`` /
    ``gemini_base``, script replies, ``stop()``."""

    max_requests: int = 500
    """Requests answered at most; later ones get a 400 (not retried), so no loop runs on."""
    lifetime: float = 300.0
    """Seconds after which the server shuts itself down, should a test never stop it."""
    script: deque[Step] = field(default_factory=deque)
    """Replies for the next requests, in order (``respond`` once it is empty)."""
    respond: Callable[[SimRequest], Step] = lambda request: Turn()
    """The reply to a request when the script is empty."""
    requests: list[SimRequest] = field(default_factory=list)
    """Every request received."""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._timer: threading.Timer | None = None

    # --- life -------------------------------------------------------------------------------

    def start(self) -> ProviderSim:
        """Listen on a free loopback port and serve in a daemon thread."""
        sim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                sim._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        self._timer = threading.Timer(self.lifetime, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def stop(self) -> None:
        """Stop serving (idempotent); slow replies still waiting are cut short."""
        self._stopping.set()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._timer is not None:
            self._timer.cancel()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        if self._server is None:
            raise RuntimeError("the simulator is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def openai_base(self) -> str:
        """litellm's ``api_base`` for ``openai/`` models."""
        return f"{self.url}/v1"

    @property
    def anthropic_base(self) -> str:
        """litellm's ``api_base`` for ``anthropic/`` models (it adds ``/v1/messages``)."""
        return self.url

    @property
    def gemini_base(self) -> str:
        """litellm's ``api_base`` for ``gemini/`` models (it adds ``/models/...``)."""
        return f"{self.url}/v1beta"

    def base_for(self, model: str) -> str:
        """The ``api_base`` for ``model``'s provider."""
        provider = model.split("/", 1)[0]
        return {"openai": self.openai_base, "anthropic": self.anthropic_base}.get(
            provider, self.gemini_base
        )

    def reply(self, *steps: Step) -> None:
        """Queue replies for the next requests."""
        with self._lock:
            self.script.extend(steps)

    # --- serving ----------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        raw = handler.rfile.read(length) if length else b""
        path = handler.path
        api = _api_of(path)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        headers = {k.lower(): v for k, v in handler.headers.items()}
        if api is None:
            self._send(handler, 404, {"error": {"message": f"no such endpoint {path}"}})
            return
        request = SimRequest(api, path, headers, body if isinstance(body, dict) else {})
        with self._lock:
            self.requests.append(request)
            over = len(self.requests) > self.max_requests
            step = self.script.popleft() if self.script else None
        if over:
            step = Failure(400, "simulator request limit reached")
        elif step is None:
            step = self.respond(request)
        if not _has_key(request):
            step = Failure(401, "no API key given")
        if step.delay and self._stopping.wait(step.delay):
            return  # stopped while waiting: no answer
        if isinstance(step, Failure):
            status, payload = step.status, _error(api, step)
            extra = {"retry-after": step.retry_after} if step.retry_after else {}
            self._send(handler, status, payload, extra)
            return
        text = filled(request) if step.text is FILL else step.text
        render = {"openai": _openai, "anthropic": _anthropic, "gemini": _gemini}[api]
        self._send(handler, 200, render(request, step, text))

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(payload).encode()
        try:
            handler.send_response(status)
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(len(data)))
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass  # the client gave up (a timeout)


def _api_of(path: str) -> str | None:
    route = path.split("?", 1)[0]
    if route.endswith("/chat/completions"):
        return "openai"
    if route.endswith("/v1/messages"):
        return "anthropic"
    if route.endswith(":generateContent") and "/models/" in route:
        return "gemini"
    return None


def _has_key(request: SimRequest) -> bool:
    headers = request.headers
    if request.api == "openai":
        return headers.get("authorization", "").removeprefix("Bearer ").strip() != ""
    if request.api == "anthropic":
        return bool(headers.get("x-api-key"))
    return bool(headers.get("x-goog-api-key")) or "key=" in request.path


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _counts(request: SimRequest, step: Turn, text: str | None) -> tuple[int, int]:
    prompt = step.prompt_tokens or _tokens(request.prompt)
    completion = step.completion_tokens or (_tokens(text or "") + step.reasoning_tokens)
    return prompt, completion


def _error(api: str, failure: Failure) -> dict[str, Any]:
    """An error body in the API's own shape."""
    if api == "openai":
        kinds = {400: "invalid_request_error", 401: "invalid_request_error", 429: "requests"}
        error = {
            "message": failure.message,
            "type": kinds.get(failure.status, "server_error"),
            "param": None,
            "code": failure.code,
        }
        return {"error": error}
    if api == "anthropic":
        kinds = {
            400: "invalid_request_error",
            401: "authentication_error",
            403: "permission_error",
            404: "not_found_error",
            429: "rate_limit_error",
            529: "overloaded_error",
        }
        error = {"type": kinds.get(failure.status, "api_error"), "message": failure.message}
        return {"type": "error", "error": error}
    statuses = {
        400: "INVALID_ARGUMENT",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        429: "RESOURCE_EXHAUSTED",
        503: "UNAVAILABLE",
    }
    status = statuses.get(failure.status, "INTERNAL")
    return {"error": {"code": failure.status, "message": failure.message, "status": status}}


def _openai(request: SimRequest, step: Turn, text: str | None) -> dict[str, Any]:
    """A chat completion (OpenAI's API reference: the chat completion object)."""
    message: dict[str, Any] = {"role": "assistant", "content": text}
    finish = step.finish
    if finish == "refusal":
        message = {"role": "assistant", "content": None, "refusal": step.refusal}
        finish = "stop"
    elif finish == "content_filter":
        message["content"] = text or None
    if step.thinking is not None:
        message["reasoning_content"] = step.thinking  # OpenAI-compatible servers (DeepSeek)
    prompt, completion = _counts(request, step, text)
    return {
        "id": "chatcmpl-sim",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": request.body.get("model"),
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": step.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": step.reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
    }


def _anthropic(request: SimRequest, step: Turn, text: str | None) -> dict[str, Any]:
    """A Messages API reply; a structured reply is a ``tool_use`` of litellm's JSON tool."""
    content: list[dict[str, Any]] = []
    if step.thinking is not None:
        content.append({"type": "thinking", "thinking": step.thinking, "signature": "c2ln"})
    stop = {"stop": "end_turn", "length": "max_tokens", "refusal": "refusal"}.get(
        step.finish, "end_turn"
    )
    parsed = _object(text) if step.finish == "stop" and request.uses_json_tool() else None
    if step.finish == "refusal":
        pass  # Anthropic's refusal stop: no content
    elif parsed is not None:
        content.append(
            {"type": "tool_use", "id": "toolu_sim", "name": ANTHROPIC_JSON_TOOL, "input": parsed}
        )
        stop = "tool_use"
    else:
        content.append({"type": "text", "text": text or ""})
    prompt, completion = _counts(request, step, text)
    return {
        "id": "msg_sim",
        "type": "message",
        "role": "assistant",
        "model": request.body.get("model"),
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            "input_tokens": prompt - step.cached_tokens - step.cache_write_tokens,
            "output_tokens": completion,
            "cache_read_input_tokens": step.cached_tokens,
            "cache_creation_input_tokens": step.cache_write_tokens,
        },
    }


def _gemini(request: SimRequest, step: Turn, text: str | None) -> dict[str, Any]:
    """A generateContent reply; thinking is a part marked ``thought``."""
    finish = {"stop": "STOP", "length": "MAX_TOKENS", "content_filter": "SAFETY"}.get(
        step.finish, "STOP"
    )
    candidate: dict[str, Any] = {"index": 0, "finishReason": finish}
    if step.finish == "content_filter":
        candidate["safetyRatings"] = [
            {"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": True}
        ]
    else:
        parts: list[dict[str, Any]] = []
        if step.thinking is not None:
            parts.append({"text": step.thinking, "thought": True})
        parts.append({"text": text or ""})
        candidate["content"] = {"role": "model", "parts": parts}
    prompt, completion = _counts(request, step, text)
    usage = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": completion - step.reasoning_tokens,
        "totalTokenCount": prompt + completion,
    }
    if step.cached_tokens:
        usage["cachedContentTokenCount"] = step.cached_tokens
    if step.reasoning_tokens:
        usage["thoughtsTokenCount"] = step.reasoning_tokens
    model = request.path.split("/models/", 1)[1].split(":", 1)[0]
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model}


def _object(text: str | None) -> dict[str, Any] | None:
    try:
        value = json.loads(text or "")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
