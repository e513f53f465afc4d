"""What a game costs: tokens per game and per player-round, the cacheable share, dollars.

Plays each shipped scenario at its default size with its LLM seats on a fake model (the
real prompts, random schema-valid replies, no network), reads every recorded request back
from ``calls.jsonl`` and counts it with a real tokenizer (tiktoken's ``o200k_base``, the
encoding of gpt-4o-mini, which litellm bundles so it works offline). The fake answers each
seat's n-th call from the seat's seed and n alone, not from the prompt, so a change of the
prompts plays the very same games and the numbers compare like for like (``--model
fake/random`` answers from the prompt instead). It prints:

- calls, prompt and completion tokens per game and per player-round (completion counted
  twice: the fake's replies, and every call at its ``max_tokens``, the upper bound a real
  model may fill and what the dollars use, as ``traitors sweep --dry-run`` does);
- the cacheable share: the prompt tokens each call shares, as a prefix, with the same
  seat's previous prompt (what a provider's prompt cache can serve), by round;
- dollars per game at litellm's bundled prices (``LITELLM_LOCAL_MODEL_COST_MAP``) for three
  real models: without caching; with every shared prefix read from the cache at the
  model's ``cache_read_input_token_cost`` (where the provider bills writing its cache,
  Anthropic, at ``cache_creation_input_token_cost``, each prefix the next call reuses is
  written once); and the same with the providers' minimum cacheable prompt (1,024 tokens,
  counted in 128-token steps, for OpenAI; 1,024 for Gemini 2.5 Flash; 4,096 for Claude
  Haiku 4.5), under which nothing is cached;
- the goals (a cacheable share of at least 80% from round 2 on; 8-player Werewolf at no
  more than 93k tokens a game) and whether they are met.

The output is deterministic for fixed seeds: the games, and so every count, depend only on
the seeds and the prompts.

    python benchmarks/tokens_per_game.py [--seeds 5] [--scenario werewolf ...] [--set PATH=V ...]
        [--model fake/random] [--block K] [--full-replies] [--markdown]

``--full-replies`` pads every reply's free text to about its ``max_tokens`` (the fake's
speeches are one short sentence; a model that uses its whole budget makes longer prompts).
``--block K`` moves the memory window K events at a time (default: ``memory_events``);
``--set`` overrides every scenario's spec (e.g. ``agents.default.memory_events=40``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

import agents.memory
from traitors.episode.spec import load_spec
from traitors.llm.fake import FILLER_TEXT, FakeCall, fill_schema, register_fake_model
from traitors.llm.library import import_litellm
from traitors.sweep.episodes import run_episodes

ROOT = Path(__file__).resolve().parent.parent / "scenarios"
SCENARIOS: dict[str, tuple[str, list[str], str]] = {
    "werewolf": ("werewolf.yaml", ["agents.default.policy=llm"], "default"),
    "the_traitors": ("the_traitors.yaml", ["agents.default.policy=llm"], "default"),
    "avalon": ("avalon.yaml", ["agents.default.policy=llm", "rules.n_players=5"], "default"),
    "principal_agent": ("principal_agent.yaml", [], "assistant"),
}
"""Scenario -> spec file, overrides, and the agents layer whose model the fake replaces."""
ENCODING = "o200k_base"


@dataclass(frozen=True)
class Priced:
    """A real model and how its provider caches prompts."""

    label: str
    model: str
    min_cached: int
    """The shortest prompt prefix the provider caches, in tokens."""
    step: int
    """Cached prefixes count in steps of this many tokens (1: any length)."""


PRICED = (
    Priced("gpt-4o-mini", "openai/gpt-4o-mini", 1024, 128),
    Priced("claude-haiku-4.5", "anthropic/claude-haiku-4-5", 4096, 1),
    Priced("gemini-2.5-flash", "gemini/gemini-2.5-flash", 1024, 1),
)
GOAL_SHARE = 0.80
"""Cacheable share of prompt tokens from round 2 on."""
GOAL_WEREWOLF_TOKENS = 93_000
"""Tokens per 8-player Werewolf game (ArenAI: ~93k per 7-player game)."""


@dataclass
class Call:
    """One recorded model call, tokenized."""

    seat: str
    round: int
    prompt: int
    shared: int
    """Prompt tokens shared, as a prefix, with the seat's previous call."""
    reused: int
    """Of this prompt, the prefix the seat's next call shares (0 for its last call)."""
    completion: int
    """Tokens of the reply."""
    bound: int
    """The call's max_tokens: the completion a real model may write at most."""


@dataclass
class Game:
    players: int
    calls: list[Call] = field(default_factory=list)

    @property
    def player_rounds(self) -> int:
        return len({(c.seat, c.round) for c in self.calls})


def _encode() -> Any:
    """o200k_base from the files litellm ships (tiktoken would otherwise download them)."""
    bundled = Path(import_litellm().__file__).parent / "litellm_core_utils" / "tokenizers"
    os.environ["TIKTOKEN_CACHE_DIR"] = str(bundled)
    import tiktoken

    encoding = tiktoken.get_encoding(ENCODING)
    return lambda text: encoding.encode(text, disallowed_special=())


def _tokens(encode: Any, messages: list[dict[str, str]]) -> list[int]:
    """A chat request as tokens: each message's role and content (about how providers
    frame them; a few tokens a message either way)."""
    out: list[int] = []
    for message in messages:
        out += encode(f"<{message['role']}>\n{message['content']}\n")
    return out


def _common(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _rounds(events: str) -> dict[str, list[int]]:
    """Each seat's decision rounds, in order (the engine logs one ``act`` per decision)."""
    rounds: dict[str, list[int]] = defaultdict(list)
    for line in events.splitlines():
        if line.startswith('{"kind":"act"'):
            event = json.loads(line)
            rounds[str(event["actor"])].append(int(event["round"]))
    return rounds


def read_game(directory: Path, players: int, encode: Any) -> Game:
    """An episode's calls with their rounds and token counts."""
    records = [json.loads(line) for line in (directory / "calls.jsonl").read_text().splitlines()]
    rounds = _rounds((directory / "events.jsonl").read_text())
    by_seat: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_seat[str(record["agent"])].append(record)
    game = Game(players)
    for seat in sorted(by_seat):
        seat_rounds = rounds.get(seat, [])
        turn = -1
        previous: list[int] = []
        seat_calls: list[Call] = []
        for record in sorted(by_seat[seat], key=lambda r: int(r["index"])):
            decision = "response_format" in record["params"]
            repair = any(m["role"] == "assistant" for m in record["messages"])
            if decision and not repair:
                turn += 1
            upcoming = turn + (0 if decision else 1)
            known = seat_rounds[min(upcoming, len(seat_rounds) - 1)] if seat_rounds else 0
            tokens = _tokens(encode, record["messages"])
            call = Call(
                seat=seat,
                round=known,
                prompt=len(tokens),
                shared=_common(previous, tokens),
                reused=0,
                completion=len(encode(record["text"] or "")),
                bound=int(record["params"].get("max_tokens") or 0),
            )
            seat_calls.append(call)
            previous = tokens
        for call, after in itertools.pairwise(seat_calls):
            call.reused = after.shared
        game.calls += seat_calls
    return game


def same_games_model(encode: Any = None) -> str:
    """A fresh fake model answering each seat's n-th call from the seat's seed and n. With
    ``encode``, each reply's free text is padded with filler sentences to about the call's
    ``max_tokens``, as a model that uses its whole budget would write."""
    turns: dict[Any, int] = defaultdict(int)

    def answer(call: FakeCall) -> str:
        seed = call.params.get("seed")
        rng = random.Random(f"{seed}|{turns[seed]}")
        turns[seed] += 1
        schema = (call.params.get("response_format") or {}).get("json_schema", {}).get("schema")
        reply: Any = fill_schema(schema, rng) if schema else rng.choice(FILLER_TEXT)
        if encode is not None:
            budget = int(call.params.get("max_tokens") or 0)
            reply = _padded(reply, schema, budget, encode, rng)
        return json.dumps(reply) if schema else str(reply)

    return register_fake_model(f"same-games-{next(_fakes)}", answer)


def _padded(reply: Any, schema: Any, budget: int, encode: Any, rng: random.Random) -> Any:
    """``reply`` with filler sentences added to its shortest free text (a string without
    an enum in ``schema``) until the next one would pass ``budget`` tokens."""

    def size(value: Any) -> int:
        return len(encode(value if isinstance(value, str) else json.dumps(value)))

    if isinstance(reply, str):
        while size(grown := f"{reply} {rng.choice(FILLER_TEXT)}") <= budget:
            reply = grown
        return reply
    fields = schema.get("properties", {})
    texts = [k for k, v in fields.items() if v.get("type") == "string" and "enum" not in v]
    while texts:
        key = min(texts, key=lambda k: len(reply[k]))
        longer = {**reply, key: f"{reply[key]} {rng.choice(FILLER_TEXT)}"}
        if size(longer) > budget:
            break
        reply = longer
    return reply


_fakes = itertools.count()


def play(
    scenario: str,
    seeds: int,
    extra: Sequence[str],
    encode: Any,
    model: str | None = None,
    full: bool = False,
) -> list[Game]:
    """Play ``seeds`` games of ``scenario`` and read their calls back."""
    name, overrides, layer = SCENARIOS[scenario]
    model = model or same_games_model(encode if full else None)
    spec = load_spec(ROOT / name, [*overrides, f"agents.{layer}.model={model}", *extra])
    with tempfile.TemporaryDirectory() as tmp:
        summaries = run_episodes(spec, range(seeds), Path(tmp))
        return [read_game(s.dir, len(s.manifest.players), encode) for s in summaries]


def _price(model: str) -> dict[str, float]:
    info = import_litellm().get_model_info(model)
    base = float(info["input_cost_per_token"])
    return {
        "input": base,
        "output": float(info["output_cost_per_token"]),
        "read": float(info.get("cache_read_input_token_cost") or base),
        "write": float(info.get("cache_creation_input_token_cost") or base),
    }


CACHES = ("none", "ideal", "min")
"""No caching; every shared prefix read from the cache; only what the provider caches."""


def dollars(game: Game, priced: Priced, cache: str) -> float:
    """One game's cost with ``cache`` (one of CACHES). Cached tokens cost
    ``cache_read_input_token_cost``; where a provider charges for writing its cache
    (Anthropic), the part of a prompt the seat's next call reuses is written once."""
    price = _price(priced.model)
    least, step = (priced.min_cached, priced.step) if cache == "min" else (1, 1)
    total = 0.0
    for call in game.calls:
        cached = written = 0
        if cache != "none":
            if call.shared >= least:
                cached = call.shared // step * step
            if price["write"] != price["input"] and call.reused >= least:
                written = max(0, call.reused - cached)
        fresh = call.prompt - cached - written
        total += cached * price["read"] + written * price["write"] + fresh * price["input"]
        total += call.bound * price["output"]
    return total


def share(calls: Sequence[Call]) -> float | None:
    """The cacheable share: prompt tokens shared with the seat's previous prompt."""
    prompt = sum(c.prompt for c in calls)
    return sum(c.shared for c in calls) / prompt if prompt else None


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _mean(values: Iterable[float]) -> float:
    return statistics.mean(list(values))


def emit(title: str, columns: Sequence[str], rows: list[list[str]], markdown: bool) -> None:
    """A table, drawn by rich or as Markdown."""
    if markdown:
        print(f"{title}\n")
        print("| " + " | ".join(columns) + " |")
        print("|" + "---|" * len(columns))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        print()
        return
    table = Table(title=title)
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=220).print(table)


def token_rows(games: dict[str, list[Game]]) -> list[list[str]]:
    rows = []
    for name, runs in games.items():
        calls = [c for g in runs for c in g.calls]
        player_rounds = sum(g.player_rounds for g in runs)
        rows.append(
            [
                name,
                str(runs[0].players),
                f"{_mean(max((c.round for c in g.calls), default=0) for g in runs):.1f}",
                f"{_mean(len(g.calls) for g in runs):.0f}",
                f"{_mean(sum(c.prompt for c in g.calls) for g in runs):,.0f}",
                f"{_mean(sum(c.completion for c in g.calls) for g in runs):,.0f}"
                f" / {_mean(sum(c.bound for c in g.calls) for g in runs):,.0f}",
                f"{sum(c.prompt for c in calls) / len(calls):,.0f}",
                f"{sum(c.prompt for c in calls) / player_rounds:,.0f}",
                f"{sum(c.completion for c in calls) / player_rounds:,.0f}"
                f" / {sum(c.bound for c in calls) / player_rounds:,.0f}",
                _pct(share(calls)),
                _pct(share([c for c in calls if c.round >= 2])),
            ]
        )
    return rows


def round_rows(games: dict[str, list[Game]]) -> tuple[list[str], list[list[str]]]:
    last = max(c.round for runs in games.values() for g in runs for c in g.calls)
    rows = []
    for name, runs in games.items():
        calls = [c for g in runs for c in g.calls]
        cells = []
        for round_no in range(1, last + 1):
            these = [c for c in calls if c.round == round_no]
            cells.append(f"{_pct(share(these))} ({len(these)})" if these else "")
        rows.append([name, *cells])
    return ["scenario", *(str(r) for r in range(1, last + 1))], rows


def dollar_rows(games: dict[str, list[Game]]) -> list[list[str]]:
    rows = []
    for name, runs in games.items():
        for priced in PRICED:
            none, ideal, least = (_mean(dollars(g, priced, c) for g in runs) for c in CACHES)
            rows.append(
                [
                    name,
                    priced.label,
                    f"${none:.4f}",
                    f"${ideal:.4f}",
                    f"{1 - ideal / none:.0%}" if none else "-",
                    f"${least:.4f}",
                    f"{1 - least / none:.0%}" if none else "-",
                ]
            )
    return rows


def goals(games: dict[str, list[Game]]) -> list[str]:
    lines = []
    for name, runs in games.items():
        value = share([c for g in runs for c in g.calls if c.round >= 2])
        if value is None:
            lines.append(f"{name}: cacheable share from round 2: no calls after round 1")
            continue
        met = "met" if value >= GOAL_SHARE else f"NOT met: {GOAL_SHARE - value:.1%} short"
        lines.append(
            f"{name}: cacheable share from round 2 >= {GOAL_SHARE:.0%}: {value:.1%}, {met}"
        )
    if "werewolf" in games:
        runs = games["werewolf"]
        prompt = _mean(sum(c.prompt for c in g.calls) for g in runs)
        low = prompt + _mean(sum(c.completion for c in g.calls) for g in runs)
        high = prompt + _mean(sum(c.bound for c in g.calls) for g in runs)
        met = (
            "met"
            if high <= GOAL_WEREWOLF_TOKENS
            else f"NOT met: {low / GOAL_WEREWOLF_TOKENS:.2f}x to {high / GOAL_WEREWOLF_TOKENS:.2f}x"
        )
        lines.append(
            f"werewolf, {runs[0].players} players: tokens per game <= {GOAL_WEREWOLF_TOKENS:,}: "
            f"{low:,.0f} (replies) to {high:,.0f} (max_tokens), {met}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--scenario", nargs="*", choices=sorted(SCENARIOS))
    parser.add_argument("--set", nargs="*", default=[], metavar="PATH=VALUE")
    parser.add_argument("--model", help="a fake model to play with instead (fake/random)")
    parser.add_argument("--block", type=int, help="events the memory window moves at once")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument(
        "--full-replies", action="store_true", help="replies padded to max_tokens (longer speech)"
    )
    args = parser.parse_args()
    agents.memory.BLOCK_EVENTS = args.block
    encode = _encode()
    chosen = args.scenario or list(SCENARIOS)
    games = {
        name: play(name, args.seeds, args.set, encode, args.model, args.full_replies)
        for name in chosen
    }
    markdown = args.markdown
    emit(
        f"Tokens per game ({ENCODING}), mean of {args.seeds} games; completion: "
        "the fake's replies / every call at max_tokens",
        (
            "scenario",
            "players",
            "rounds",
            "calls",
            "prompt",
            "completion (replies / max_tokens)",
            "prompt / call",
            "prompt / player-round",
            "completion / player-round",
            "cacheable",
            "cacheable, round 2+",
        ),
        token_rows(games),
        markdown,
    )
    columns, rows = round_rows(games)
    emit("Cacheable share of prompt tokens by round (calls)", columns, rows, markdown)
    emit(
        "Dollars per game at litellm's prices, completion at max_tokens",
        ("scenario", "model", "no cache", "cache", "saved", "cache, provider minimum", "saved"),
        dollar_rows(games),
        markdown,
    )
    print("Goals:")
    for line in goals(games):
        print(f"  {line}")


if __name__ == "__main__":
    main()
