"""Werewolf's analysis plug-in (:data:`ANALYSIS`, entry point ``traitors.analysis``): the
facts its rules text states. Werewolf has no metric group of its own: the generic groups
read it in its words (villagers and werewolves, the exile vote)."""

from __future__ import annotations

from analysis.plugin import GameAnalysis
from analysis.suite import HIDDEN_SIDE_GROUPS
from traitors.game.rules_text import StatedChoice, number, rule

RULE_FACTS = (
    number("players", r"Werewolf with (\w+) players", rule("n_players")),
    number("werewolves", r"(\w+) werewolves who know each other", rule("n_werewolves")),
    number("round limit", r"After (\w+) rounds", rule("max_rounds")),
    StatedChoice(
        "exile and tie rule",
        {
            "majority": "needs more than half of the votes",
            "plurality": "a tie exiles nobody",
        },
        rule("exile_rule"),
    ),
)
"""What Werewolf's rules text states: players, werewolves, the round limit, and the exile
rule with its tie rule."""

ANALYSIS = GameAnalysis(default_groups=HIDDEN_SIDE_GROUPS, rule_facts=RULE_FACTS)
"""Werewolf's analysis plug-in."""
