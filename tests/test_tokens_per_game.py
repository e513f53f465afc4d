"""benchmarks/tokens_per_game.py: deterministic counts of real prompts (no network)."""

from __future__ import annotations

import importlib.util
import json
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def bench() -> ModuleType:
    """The benchmark, imported by path (benchmarks is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "tokens_per_game", ROOT / "benchmarks" / "tokens_per_game.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["tokens_per_game"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_tokens_per_game_is_deterministic_and_counts_shared_prefixes() -> None:
    tokens = bench()
    encode = tokens._encode()
    assert encode("GAME: debate begins.") == encode("GAME: debate begins.")  # a real tokenizer
    assert len(encode("GAME: debate begins.")) < len("GAME: debate begins.") / 2
    first = tokens.play("avalon", 1, [], encode)
    assert first == tokens.play("avalon", 1, [], encode)  # the same games, the same counts
    (game,) = first
    assert game.players == 5 and game.player_rounds >= 5
    assert all(0 <= c.shared <= c.prompt and c.reused <= c.prompt for c in game.calls)
    first_calls = {c.seat: c for c in reversed(game.calls)}  # calls are grouped by seat
    assert all(c.shared == 0 for c in first_calls.values())
    assert 0.5 < tokens.share([c for c in game.calls if c.round >= 2]) < 1
    priced = tokens.PRICED[0]
    none, ideal = (tokens.dollars(game, priced, cache) for cache in ("none", "ideal"))
    assert 0 < ideal < none


def test_full_replies_fill_the_free_text_only() -> None:
    tokens = bench()
    encode = tokens._encode()
    schema = {
        "type": "object",
        "properties": {"vote": {"enum": ["Bob", "Carol"]}, "text": {"type": "string"}},
    }
    reply = tokens._padded({"vote": "Bob", "text": "Hi."}, schema, 64, encode, random.Random(0))
    assert reply["vote"] == "Bob" and len(reply["text"]) > 100
    assert 50 < len(encode(json.dumps(reply))) <= 64
