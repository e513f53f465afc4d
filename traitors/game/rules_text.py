"""The rules-text check: does the rules text a prompt states match the rules played?

Each scenario declares the facts its rules text must state (player counts, hidden side
counts, round limit, tie rules) and how it words each, as the ``rule_facts`` of its analysis
plug-in (the entry-point group ``traitors.analysis``, or ``registry.register_analysis``). The
expected value of each comes from the rules the episode ran with (a config, or the plain
``spec.rules`` mapping when the scenario is not installed), never from the text, so a rules
text written from other settings, or edited, is caught. A number is checked wherever the
text states it: stated once wrongly, or twice with two values, is a mismatch, and so is not
stating it at all. A rule with several options (a tie rule) must state the words of the
option played and none of the words of the others.

A scenario that declares no facts is not checked, and the check says so
(:attr:`RulesTextCheck.declared`). ``traitors check`` checks the rules text every LLM
seat's system prompt starts with (``rules.describe()``); ``traitors analyze`` (its
``validity`` group) checks every system prompt a recorded episode sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from traitors.game.registry import UnknownName, lookup

NUMBER_WORDS = {
    word: n
    for n, word in enumerate(
        (
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
        )
    )
}
"""Numbers a rules text may spell out (``five at most``)."""

Rules = Any
"""A scenario's rules config (its ``config_model``), or the plain ``spec.rules`` mapping
when the scenario is not installed."""


@dataclass(frozen=True)
class StatedNumber:
    """A number the rules text must state: wherever ``pattern`` matches, its group 1."""

    fact: str
    """What it is, as reported (``players``)."""
    pattern: re.Pattern[str]
    expected: Callable[[Rules], int]
    """The number the episode ran with."""


@dataclass(frozen=True)
class StatedChoice:
    """A rule with options (a tie rule): the text must hold the option played's words and
    no other option's."""

    fact: str
    phrases: Mapping[str, str]
    """Option -> the words stating it."""
    expected: Callable[[Rules], str]
    """The option the episode ran with."""


Fact = StatedNumber | StatedChoice
"""One fact a rules text must state."""

ALWAYS = "always"
"""The single option of a rule every episode of a scenario plays."""


def rule(name: str) -> Callable[[Rules], Any]:
    """The expected value of a fact that is the rule option ``name`` itself."""
    return lambda rules: rules[name] if isinstance(rules, Mapping) else getattr(rules, name)


def number(fact: str, pattern: str, expected: Callable[[Rules], int]) -> StatedNumber:
    """A :class:`StatedNumber` from a regular expression whose group 1 is the number."""
    return StatedNumber(fact, re.compile(pattern), expected)


def always(fact: str, words: str) -> StatedChoice:
    """A rule every episode plays the same way: the text must state it in ``words``."""
    return StatedChoice(fact, {ALWAYS: words}, lambda rules: ALWAYS)


@dataclass(frozen=True)
class Mismatch:
    """A fact a rules text states otherwise than the episode was played (or not at all)."""

    fact: str
    expected: str
    """What the episode ran with."""
    stated: str
    """What the text says (``not stated`` when it says nothing of it)."""


NOT_STATED = "not stated"


@dataclass(frozen=True)
class RulesTextCheck:
    """The rules-text check of one text."""

    scenario: str
    facts: tuple[str, ...]
    """The facts checked (none: the scenario declares no rule facts)."""
    mismatches: tuple[Mismatch, ...] = ()

    @property
    def declared(self) -> bool:
        """Whether the scenario declares rule facts (else nothing was checked)."""
        return bool(self.facts)

    @property
    def ok(self) -> bool:
        """No fact is stated otherwise than played (also true when nothing was checked)."""
        return not self.mismatches

    def summary(self) -> str:
        """One line: what was checked and what differs."""
        if not self.declared:
            return f"not checked: {self.scenario} declares no rule facts"
        if self.ok:
            return f"states the rules played ({', '.join(self.facts)})"
        return "differs from the rules played: " + "; ".join(
            f"{m.fact} played {m.expected}, stated {m.stated}" for m in self.mismatches
        )


def declared_facts(scenario: str) -> tuple[Fact, ...]:
    """The facts ``scenario``'s rules text must state: its analysis plug-in's
    ``rule_facts`` (none when it has no plug-in or declares none)."""
    try:
        plugin = lookup("analysis", scenario)
    except UnknownName:
        return ()
    return tuple(getattr(plugin, "rule_facts", ()) or ())


def check_rules_text(scenario: str, rules: Rules, text: str) -> RulesTextCheck:
    """Check ``text`` against the rule facts ``scenario`` declares, played as ``rules`` say."""
    facts = declared_facts(scenario)
    return RulesTextCheck(
        scenario, tuple(f.fact for f in facts), tuple(mismatches(facts, rules, text))
    )


def mismatches(facts: Sequence[Fact], rules: Rules, text: str) -> list[Mismatch]:
    """Every fact of ``facts`` that ``text`` does not state as ``rules`` say."""
    found = []
    for fact in facts:
        if isinstance(fact, StatedNumber):
            found += _check_number(fact, rules, text)
        else:
            found += _check_choice(fact, rules, text)
    return found


def _check_number(fact: StatedNumber, rules: Rules, text: str) -> list[Mismatch]:
    expected = int(fact.expected(rules))
    stated = [_as_number(m) for m in fact.pattern.findall(text)]
    if not stated:
        return [Mismatch(fact.fact, str(expected), NOT_STATED)]
    wrong = sorted({s for s in stated if s != str(expected)})
    return [Mismatch(fact.fact, str(expected), s) for s in wrong]


def _check_choice(fact: StatedChoice, rules: Rules, text: str) -> list[Mismatch]:
    expected = str(fact.expected(rules))
    folded = " ".join(text.split()).casefold()
    stated = [option for option, words in fact.phrases.items() if words.casefold() in folded]
    found = []
    if expected not in stated:
        found.append(Mismatch(fact.fact, expected, NOT_STATED))
    found += [Mismatch(fact.fact, expected, s) for s in stated if s != expected]
    return found


def _as_number(word: str) -> str:
    """A stated number as digits (a word it does not know stays as written)."""
    return str(NUMBER_WORDS.get(word.lower(), word)) if not word.isdigit() else str(int(word))
