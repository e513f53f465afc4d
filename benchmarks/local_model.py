"""Embedded presets: tokens/s through the gateway against llama-cpp-python called directly.

The same prompts (a game-like system prompt and a short, distinct user message each) go
to each preset twice, alternating: through ``traitors.llm`` (gateway -> litellm -> the
``local`` provider) and straight into ``llama_cpp.Llama.create_chat_completion`` on a
model loaded with the same settings. Goal: the gateway keeps at least 0.9 of direct speed.

    python benchmarks/local_model.py [--calls 4] [--max-tokens 48]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from rich.console import Console
from rich.table import Table

from traitors.llm.gateway import CallLog, Gateway, ModelRequest
from traitors.llm.local import close_models, load_model, resolve_model_path

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


def through_gateway(model: str, users: list[str], max_tokens: int) -> tuple[int, float]:
    gateway, log = Gateway(), CallLog()

    async def run() -> tuple[int, float]:
        tokens, seconds = 0, 0.0
        for user in users:
            request = ModelRequest(
                model=f"local/{model}",
                messages=({"role": "system", "content": SYSTEM}, {"role": "user", "content": user}),
                max_tokens=max_tokens,
                temperature=0.7,
                seed=1,
            )
            started = time.perf_counter()
            response = await gateway.complete(request, agent="bench", log=log)
            seconds += time.perf_counter() - started
            tokens += response.completion_tokens
        return tokens, seconds

    return asyncio.run(run())


def direct(model: str, users: list[str], max_tokens: int) -> tuple[int, float]:
    from llama_cpp import Llama

    llama = Llama(
        model_path=str(resolve_model_path(model)),
        n_ctx=4096,
        n_batch=64,
        n_ubatch=64,
        n_threads=load_model(model).llama.n_threads,
        verbose=False,
    )
    tokens, seconds = 0, 0.0
    for user in users:
        started = time.perf_counter()
        out = llama.create_chat_completion(
            messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}],
            max_tokens=max_tokens,
            temperature=0.7,
            seed=1,
            repeat_penalty=1.2,
        )
        seconds += time.perf_counter() - started
        tokens += out["usage"]["completion_tokens"]  # type: ignore[index]
    llama.close()
    return tokens, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=48)
    args = parser.parse_args()
    users = prompts(args.calls)
    table = Table(title=f"{args.calls} calls per path, {args.max_tokens} max tokens each")
    for column in ("preset", "gateway tok/s", "direct tok/s", "ratio"):
        table.add_column(column, justify="right")
    for model in ("smollm2-135m", "gemma3-270m"):
        load_model(model)  # load (and for gemma, assemble) outside the timings
        gateway_tokens, gateway_s = through_gateway(model, users, args.max_tokens)
        direct_tokens, direct_s = direct(model, users, args.max_tokens)
        g, d = gateway_tokens / gateway_s, direct_tokens / direct_s
        table.add_row(model, f"{g:.1f}", f"{d:.1f}", f"{g / d:.2f}")
    close_models()
    Console().print(table)
    print("tok/s = completion tokens / wall time per call, prompt processing included")
    print("goal: ratio >= 0.9")


if __name__ == "__main__":
    main()
