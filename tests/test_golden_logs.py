"""Scripted and fake-model episodes of every shipped game log exactly what they logged before.

The digests in ``tests/golden/logs.json`` were recorded before the engine was split into
layers; a refactor that changes any event, order or id of these episodes fails here. The
``*-llm-fake`` cases were re-recorded when the LLM agent's prompts changed (the fake model's
answers are seeded by the prompt, so new prompts play other games).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).with_name("golden")))
from record import CASES, GOLDEN, play

EXPECTED = json.loads(GOLDEN.read_text())


def test_golden_covers_every_case() -> None:
    assert set(EXPECTED) == set(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.slow
def test_episode_logs_are_byte_identical(case: str, tmp_path: Path) -> None:
    assert play(case, tmp_path) == EXPECTED[case]
