"""The rules-text check: does the rules text a prompt states match the rules the episode ran
with?

For each scenario, :data:`FACTS` lists what its prompts must state (player counts, hidden
side counts, round limit, tie rules) and how each is worded; the expected value of each
comes from the episode's manifest (``spec.rules``, completed with the scenario's defaults),
never from the text the agents were given, so a rules text written from other settings, or
edited, is caught. A number is checked wherever the text states it: stated once wrongly,
or twice with two values, is a mismatch, and so is not stating it at all. A rule with
several options (a tie rule) must state the words of the option played and none of the
words of the others.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
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


def _rule(name: str) -> Callable[[Rules], Any]:
    return lambda rules: getattr(rules, name) if not isinstance(rules, Mapping) else rules[name]


def _number(fact: str, pattern: str, expected: Callable[[Rules], int]) -> StatedNumber:
    return StatedNumber(fact, re.compile(pattern), expected)


ALWAYS = "always"
"""The single option of a rule every episode of a scenario plays."""

FACTS: dict[str, tuple[Fact, ...]] = {
    "the_traitors": (
        _number("players", r"game with (\w+) players", _rule("n_players")),
        _number("traitors", r"(\w+) of them are secretly traitors", _rule("n_traitors")),
        _number("round limit", r"After (\w+) rounds", _rule("max_rounds")),
        StatedChoice(
            "banishment tie rule",
            {
                "revote_then_random": "a tie gets one re-vote among the tied, then a random pick",
                "random": "a tie is settled by a random pick",
                "no_banish": "after a tie nobody is banished",
            },
            _rule("banish_tie"),
        ),
        StatedChoice(
            "murder rule",
            {
                "unanimous": "the traitors must agree unanimously",
                "plurality": "the plurality of the traitors' votes decides",
            },
            _rule("murder_rule"),
        ),
    ),
    "werewolf": (
        _number("players", r"Werewolf with (\w+) players", _rule("n_players")),
        _number("werewolves", r"(\w+) werewolves who know each other", _rule("n_werewolves")),
        _number("round limit", r"After (\w+) rounds", _rule("max_rounds")),
        StatedChoice(
            "exile and tie rule",
            {
                "majority": "needs more than half of the votes",
                "plurality": "a tie exiles nobody",
            },
            _rule("exile_rule"),
        ),
    ),
    "avalon": (
        _number("players", r"Avalon with (\w+) players", _rule("n_players")),
        _number("good players", r"(\w+) good \(", lambda rules: rules.good_count()),
        _number("evil players", r"(\w+) evil \(", lambda rules: rules.evil_count()),
        _number("round limit", r"Each round is a quest, (\w+) at most", _rule("max_rounds")),
        StatedChoice("team vote tie rule", {ALWAYS: "a tie rejects"}, lambda rules: ALWAYS),
    ),
    "principal_agent": (_number("questions", r"may ask up to (\w+) question", _rule("questions")),),
}
"""What each scenario's prompts must state, and how they word it."""


@dataclass(frozen=True)
class Mismatch:
    """A fact a rules text states otherwise than the episode was played (or not at all)."""

    fact: str
    expected: str
    """What the episode ran with."""
    stated: str
    """What the text says (``not stated`` when it says nothing of it)."""


NOT_STATED = "not stated"


def checked_facts(scenario: str) -> tuple[str, ...]:
    """The facts checked for ``scenario`` (none for a scenario :data:`FACTS` lacks)."""
    return tuple(f.fact for f in FACTS.get(scenario, ()))


def episode_rules(scenario: str, rules: Mapping[str, Any]) -> Rules:
    """The rules an episode ran with: its ``spec.rules`` completed with the scenario's
    defaults (the mapping itself when the scenario is not installed)."""
    try:
        config_model = lookup("scenario", scenario).config_model
    except UnknownName:
        return rules
    return config_model.model_validate(dict(rules))


def check_text(scenario: str, rules: Rules, text: str) -> list[Mismatch]:
    """Every fact of ``scenario`` that ``text`` does not state as ``rules`` say."""
    mismatches = []
    for fact in FACTS.get(scenario, ()):
        if isinstance(fact, StatedNumber):
            mismatches += _check_number(fact, rules, text)
        else:
            mismatches += _check_choice(fact, rules, text)
    return mismatches


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
    mismatches = []
    if expected not in stated:
        mismatches.append(Mismatch(fact.fact, expected, NOT_STATED))
    mismatches += [Mismatch(fact.fact, expected, s) for s in stated if s != expected]
    return mismatches


def _as_number(word: str) -> str:
    """A stated number as digits (a word it does not know stays as written)."""
    return str(NUMBER_WORDS.get(word.lower(), word)) if not word.isdigit() else str(int(word))
