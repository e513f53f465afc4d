"""PettingZoo adapters: rule options they do not take are one clear line, and the documented
example plays."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from traitors.pettingzoo import env, parallel_env


@pytest.mark.parametrize("make", [env, parallel_env])
@pytest.mark.parametrize(
    ("options", "line"),
    [
        (
            {"n_players": 5},
            "the_traitors: options: n_traitors=3 must be fewer than half of n_players=5, or "
            "the traitors win before the game starts",
        ),
        ({"n_playerz": 5}, "the_traitors: options.n_playerz: unknown field"),
    ],
)
def test_bad_rule_options_raise_one_line(make: Any, options: dict[str, Any], line: str) -> None:
    with pytest.raises(ValueError) as caught:
        make("the_traitors", **options)
    assert not isinstance(caught.value, ValidationError)
    assert str(caught.value) == line


def test_the_documented_example_plays_to_the_end() -> None:
    aec = env("the_traitors", n_players=5, n_traitors=2)
    aec.reset(seed=1)
    rng = np.random.default_rng(1)
    for _agent in aec.agent_iter():
        obs, _, terminated, truncated, _ = aec.last()
        action = None if terminated or truncated else rng.choice(np.flatnonzero(obs["action_mask"]))
        aec.step(action)
    assert aec.unwrapped.game.core.over
