"""Conformance check for any scenario, in the spirit of PettingZoo's ``api_test``.

Plays many seeded episodes through the episode core and asserts the contracts every
scenario must keep: the game ends within its round limit, eliminated players never act,
every applied action is legal for its request, the outcome matches the win condition as
judged from the log, no observation ever holds an event its agent may not see (checked
with ``visible_to`` and, independently, with the generic visibility rules and the
scenario's own ``audit``), and the core restored from the log alone (whole, and from its
first half) re-creates it exactly. It also checks that the rules text every LLM seat's
system prompt starts with (``rules.describe()``) states the rules played, fact by fact as
the scenario declares them (``traitors.game.rules_text``), and says so when it declares none.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from traitors.episode.core import EpisodeCore, RestoreError, RulesViolation
from traitors.episode.engine import run_episode
from traitors.episode.policy import Observation
from traitors.episode.spec import ScenarioSpec, with_policy
from traitors.game.actions import Action, ActionError, ActionRequest
from traitors.game.events import Direct, Event, GodOnly, Private, player_view, visible_to
from traitors.game.rules import GameRules, GameState
from traitors.game.rules_text import RulesTextCheck, check_rules_text


class _Auditor:
    """Watches one episode through the engine's observer hooks and collects problems."""

    def __init__(self, rules: Any) -> None:
        self.rules = rules
        self.allowed: dict[int, frozenset[str]] = {}
        self.problems: list[str] = []
        self.decisions = 0

    def on_event(self, event: Event, state: GameState) -> None:
        allowed = frozenset(p for p in state.players if visible_to(event, p, state))
        self.allowed[event.seq] = allowed
        vis = event.visibility
        for viewer in allowed:
            reason = None
            if isinstance(vis, GodOnly):
                reason = "god-only event visible to a player"
            elif isinstance(vis, Private) and vis.agent != viewer:
                reason = f"private event of {vis.agent}"
            elif isinstance(vis, Direct) and viewer not in vis.recipients:
                reason = "direct event to others"
            else:
                reason = self.rules.audit(state, event, viewer)
            if reason:
                self.problems.append(
                    f"leak to {viewer} at seq {event.seq} ({event.kind}): {reason}"
                )

    def on_decision(self, observation: Observation, request: ActionRequest, action: Action) -> None:
        agent = observation.agent
        self.decisions += 1
        if agent not in observation.alive:
            self.problems.append(f"{agent} acted while eliminated")
        try:
            request.check(action)
        except ActionError as exc:
            self.problems.append(f"{agent} applied an illegal action: {exc}")
        seen = [e.seq for e in observation.events]
        expected = [s for s, who in self.allowed.items() if agent in who]
        if seen != expected:
            hidden = sorted(set(seen) - set(expected))
            missing = sorted(set(expected) - set(seen))
            if hidden:
                self.problems.append(f"{agent} observed hidden events {hidden[:5]}")
            if missing:
                self.problems.append(f"{agent} missed visible events {missing[:5]}")


@dataclass
class ConformanceReport:
    """What the conformance check saw over all episodes."""

    scenario: str
    policy: str
    episodes: int = 0
    events: int = 0
    decisions: int = 0
    winners: Counter[str] = field(default_factory=Counter)
    max_round: int = 0
    problems: list[str] = field(default_factory=list)
    rules_text: RulesTextCheck | None = None
    """Whether the rules text the prompts state is the rules played (None: not checked)."""

    @property
    def ok(self) -> bool:
        """True if no episode broke a contract and the rules text states the rules played
        (a scenario that declares no rule facts is not failed for it: ``rules_text`` says
        it was not checked)."""
        return not self.problems and (self.rules_text is None or self.rules_text.ok)


@dataclass(frozen=True)
class EpisodeCheck:
    """The audit of one episode."""

    problems: list[str]
    events: int
    decisions: int
    winner: str
    rounds: int


async def check_episode(spec: ScenarioSpec, seed: int) -> EpisodeCheck:
    """Run one audited episode of ``spec`` with ``seed``."""
    rules = spec.build_rules()
    auditor = _Auditor(rules)
    try:
        result = await run_episode(spec, seed, observers=[auditor])
    except RulesViolation as exc:
        return EpisodeCheck([f"seed {seed}: {exc}"], 0, auditor.decisions, "error", 0)
    problems = [f"seed {seed}: {p}" for p in auditor.problems]
    problems += [
        f"seed {seed}: {p}"
        for p in _restore_problems(rules, result.manifest.players, seed, result.events)
    ]
    for player in result.manifest.players:
        from_log = [e.seq for e in player_view(result.events, player)]
        delivered = [s for s, who in auditor.allowed.items() if player in who]
        if from_log != delivered:
            problems.append(f"seed {seed}: {player}'s view rebuilt from the log differs")
    outcome = result.outcome
    max_rounds = rules.config.max_rounds
    if outcome.rounds > max_rounds:
        problems.append(f"seed {seed}: ended after {outcome.rounds} rounds > {max_rounds}")
    judged = rules.judge(result.events)
    if judged != outcome.winner:
        problems.append(f"seed {seed}: outcome {outcome.winner!r} but the log says {judged!r}")
    if result.events[-1].kind != "game_over":
        problems.append(f"seed {seed}: log does not end with game_over")
    winner = outcome.winner or "draw"
    return EpisodeCheck(problems, len(result.events), auditor.decisions, winner, outcome.rounds)


def _restore_problems(
    rules: GameRules[Any], players: list[str], seed: int, events: list[Event]
) -> list[str]:
    """Restore the core from the whole log and from its first half: both must re-create it
    (the half stops at the last decision point before the middle, or at the first one)."""
    middle = len(events) // 2
    try:
        whole = EpisodeCore.restore(rules, players, seed, events)
        half = EpisodeCore.restore(rules, players, seed, events, until=middle)
        start = EpisodeCore.restore(rules, players, seed, events, until=0)
    except RestoreError as exc:
        return [f"restore from the log failed: {exc}"]
    problems = []
    if whole.events != events or not whole.over:
        problems.append("the core restored from the whole log differs from the episode")
    if half.events != events[: len(half.events)] or len(half.events) > max(
        middle, len(start.events)
    ):
        problems.append("the core restored from half the log differs from its prefix")
    return problems


def check_scenario(
    spec: ScenarioSpec, seeds: Iterable[int], policy: str = "random", source: str | None = None
) -> ConformanceReport:
    """Play one audited episode per seed with every seat on ``policy``, and check the rules
    text the prompts state (:func:`check_rules_text`); SpecError names ``source`` (default:
    the spec's name and ``--policy``) for a policy that does not exist."""
    spec = with_policy(spec, policy, source or f"{spec.name} --policy {policy}")
    report = ConformanceReport(spec.scenario, policy)
    report.rules_text = rules_text_of(spec)

    async def run_all() -> None:
        for seed in seeds:
            check = await check_episode(spec, seed)
            report.episodes += 1
            report.events += check.events
            report.decisions += check.decisions
            report.winners[check.winner] += 1
            report.max_round = max(report.max_round, check.rounds)
            report.problems.extend(check.problems)

    asyncio.run(run_all())
    return report


def rules_text_of(spec: ScenarioSpec) -> RulesTextCheck:
    """The rules-text check of ``spec``: the text every LLM seat's system prompt starts with
    (the rules' ``describe()``, the same for every seat) against the rules it plays (its
    validated options), with the facts its scenario declares."""
    rules = spec.build_rules()
    return check_rules_text(spec.scenario, rules.config, rules.describe())
