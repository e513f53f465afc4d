"""A fifth game that lives only in the tests: Spy (three players, one hidden spy, one vote).

It is the proof that a game plugs in completely from its own files: ``rules.py`` (its
rules, on the engine's contracts only) and ``game_analysis.py`` (its analysis plug-in), both
registered from ``tests/conftest.py`` with ``traitors.game.registry.register_scenario`` and
``register_analysis``, nothing in ``pyproject.toml``. The tests that cover every registered
game (PettingZoo, conformance, the rules-text check, the analysis smoke test) then cover it
too.
"""

from fifth_game.game_analysis import ANALYSIS
from fifth_game.rules import Spy

NAME = "spy"
"""Its scenario name."""

__all__ = ["ANALYSIS", "NAME", "Spy"]
