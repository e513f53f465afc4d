"""Embedded presets: tokens/s through the gateway against llama-cpp-python called directly.

The same prompts (a game-like system prompt and a short, distinct user message each) go to
each preset through ``traitors.llm`` (gateway -> litellm -> the ``local`` provider) and
straight into ``llama_cpp.Llama.create_chat_completion`` on a second copy of the model
loaded with the same settings. Calls alternate between the two paths, so machine noise
hits both alike; each path's first call is a warm-up. The provider runs in its default
``exact`` mode (reproducible text whatever ran before) and in ``fast`` mode
(``TRAITORS_LOCAL_MODE=fast``: llama.cpp's own prefix reuse, as the direct path).
Goal: the gateway keeps at least 0.9 of direct speed.

    python benchmarks/local_model.py [--calls 6] [--max-tokens 48]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from traitors.llm.gateway import Gateway, ModelRequest
from traitors.llm.local import close_models, load_model, resolve_model_path
from traitors.store.calls import CallLog

SYSTEM = (
    "You are playing The Traitors, a social deduction game with 6 players. Two of them are "
    "secretly traitors who know each other; the others are faithful. Each round everyone "
    "speaks at the round table, then votes to banish one player, whose role is revealed. "
    "At night the traitors murder a faithful. " * 4
)


def prompts(count: int) -> list[str]:
    names = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank"]
    return [
        f"Round {i + 1}. Speak briefly to the table about {names[i % 6]}." for i in range(count)
    ]


def measure(model: str, users: list[str], max_tokens: int) -> tuple[float, float]:
    """(gateway tok/s, direct tok/s), calls alternating between the two paths."""
    from llama_cpp import Llama

    direct = Llama(
        model_path=str(resolve_model_path(model)),
        n_ctx=4096,
        n_batch=64,
        n_ubatch=64,
        n_threads=load_model(model).llama.n_threads,
        verbose=False,
    )
    gateway, log = Gateway(), CallLog()
    loop = asyncio.new_event_loop()
    totals = {"gateway": [0, 0.0], "direct": [0, 0.0]}
    for index, user in enumerate(users):
        messages: list[Any] = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": user},
        ]
        request = ModelRequest(
            model=f"local/{model}",
            messages=tuple(messages),
            max_tokens=max_tokens,
            temperature=0.7,
            seed=1,
        )
        started = time.perf_counter()
        response = loop.run_until_complete(gateway.complete(request, agent="bench", log=log))
        gateway_s = time.perf_counter() - started
        started = time.perf_counter()
        out = direct.create_chat_completion(
            messages=messages, max_tokens=max_tokens, temperature=0.7, seed=1, repeat_penalty=1.2
        )
        direct_s = time.perf_counter() - started
        if index:  # the first call of each path warms up
            totals["gateway"][0] += response.completion_tokens
            totals["gateway"][1] += gateway_s
            totals["direct"][0] += out["usage"]["completion_tokens"]  # type: ignore[index]
            totals["direct"][1] += direct_s
    pending = asyncio.all_tasks(loop)  # litellm's background logging worker
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    direct.close()
    return tuple(tokens / seconds for tokens, seconds in totals.values())  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=6, help="timed calls per path")
    parser.add_argument("--max-tokens", type=int, default=48)
    args = parser.parse_args()
    users = prompts(args.calls + 1)
    table = Table(title=f"{args.calls} calls per path, {args.max_tokens} max tokens each")
    for column in ("preset", "mode", "gateway tok/s", "direct tok/s", "ratio"):
        table.add_column(column, justify="right")
    for model in ("smollm2-135m", "gemma3-270m"):
        loaded = load_model(model)  # load (and for gemma, assemble) outside the timings
        for exact in (True, False):
            loaded.exact = exact
            g, d = measure(model, users, args.max_tokens)
            mode = "exact (default)" if exact else "fast"
            table.add_row(model, mode, f"{g:.1f}", f"{d:.1f}", f"{g / d:.2f}")
    close_models()
    Console().print(table)
    print("tok/s = completion tokens / wall time per call, prompt processing included")
    print("goal: ratio >= 0.9")


if __name__ == "__main__":
    main()
