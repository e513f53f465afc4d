"""Werewolf's analysis plug-in (:data:`ANALYSIS`, entry point ``traitors.analysis``): the
facts its rules text states. Werewolf has no metric group of its own: the generic groups
read it in its words (villagers and werewolves, the exile vote)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from analysis.plugin import GameAnalysis
from analysis.suite import HIDDEN_SIDE_GROUPS
from traitors.game.rules_text import Rules, StatedChoice, number, rule


def option(name: str, default: Any) -> Callable[[Rules], Any]:
    """A rule option's value; ``default`` in manifests from before the option existed."""

    def value(rules: Rules) -> Any:
        if isinstance(rules, Mapping):
            return rules.get(name, default)
        return getattr(rules, name, default)

    return value


def exile_and_tie(rules: Rules) -> str:
    """The exile rule, with its tie rule under plurality."""
    if rule("exile_rule")(rules) == "majority":
        return "majority"
    return f"plurality, tie: {option('exile_tie', 'nobody')(rules)}"


RULE_FACTS = (
    number("players", r"Werewolf with (\w+) players", rule("n_players")),
    number("werewolves", r"(\w+) werewolves who know each other", rule("n_werewolves")),
    number("round limit", r"After (\w+) rounds", rule("max_rounds")),
    StatedChoice(
        "exile and tie rule",
        {
            "majority": "needs more than half of the votes",
            "plurality, tie: nobody": "a tie exiles nobody",
            "plurality, tie: random": "a tie is broken at random",
        },
        exile_and_tie,
    ),
    StatedChoice(
        "what the seer learns",
        {"role": "learns one player's role", "team": "learns one player's team"},
        option("seer_learns", "role"),
    ),
)
"""What Werewolf's rules text states: players, werewolves, the round limit, the exile rule
with its tie rule, and what the seer learns."""

ANALYSIS = GameAnalysis(default_groups=HIDDEN_SIDE_GROUPS, rule_facts=RULE_FACTS)
"""Werewolf's analysis plug-in."""
