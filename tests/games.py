"""Every registered game, for the tests that cover each one (PettingZoo, conformance, the
rules-text check, the analysis smoke test).

The games are read from the registry when the tests are collected: the installed scenarios
(entry points ``traitors.scenarios``) and those ``conftest.py`` registers (the fifth game,
``tests/fifth_game``). A new game is covered by registering it, with no edit here.
"""

from __future__ import annotations

from typing import Any

from traitors.episode.spec import ScenarioSpec, validate_spec
from traitors.game import registry

GAMES = tuple(registry.names("scenario"))
"""Every registered scenario, by name."""


def game_spec(scenario: str, policy: str = "random", **agent: Any) -> ScenarioSpec:
    """A spec of ``scenario`` with its default rules, every seat on ``policy``."""
    raw = {"name": "every_game", "scenario": scenario}
    return validate_spec({**raw, "agents": {"default": {"policy": policy, **agent}}})
