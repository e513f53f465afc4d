"""The rules-text check over recorded episodes: does the rules text each system prompt states
match the rules the episode ran with?

The facts each scenario's prompts must state, and how they are worded, are the scenario's
own (the ``rule_facts`` of its analysis plug-in); the check itself is
``traitors.game.rules_text``. Here the rules an episode ran with come from its manifest
(``spec.rules``, completed with the scenario's defaults).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from traitors.game.registry import UnknownName, lookup
from traitors.game.rules_text import Mismatch, Rules, declared_facts, mismatches

__all__ = ["Mismatch", "check_text", "checked_facts", "episode_rules"]


def checked_facts(scenario: str) -> tuple[str, ...]:
    """The facts checked for ``scenario`` (none when it declares no rule facts)."""
    return tuple(f.fact for f in declared_facts(scenario))


def episode_rules(scenario: str, rules: Mapping[str, Any]) -> Rules:
    """The rules an episode ran with: its ``spec.rules`` completed with the scenario's
    defaults (the mapping itself when the scenario is not installed)."""
    try:
        config_model = lookup("scenario", scenario).config_model
    except UnknownName:
        return rules
    return config_model.model_validate(dict(rules))


def check_text(scenario: str, rules: Rules, text: str) -> list[Mismatch]:
    """Every fact ``scenario`` declares that ``text`` does not state as ``rules`` say (none
    when it declares no facts: :func:`checked_facts` tells)."""
    return mismatches(declared_facts(scenario), rules, text)
