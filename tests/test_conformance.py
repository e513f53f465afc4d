"""The conformance check: 300 seeds per policy pass, and it catches broken scenarios."""

from __future__ import annotations

import pytest

from scenarios.the_traitors import TheTraitors
from traitors.episode.conformance import check_scenario
from traitors.episode.spec import load_spec
from traitors.game.events import PUBLIC, RevealEvent, SpeakEvent
from traitors.game.registry import register_scenario


@pytest.mark.parametrize("policy", ["random", "heuristic"])
def test_300_seeds_hold_every_contract(traitors_yaml, policy: str) -> None:
    report = check_scenario(load_spec(traitors_yaml), range(300), policy)
    assert report.problems == []
    assert report.episodes == 300
    assert report.max_round <= 12
    assert report.decisions > 300 * 10


@pytest.mark.parametrize(
    "overrides",
    [
        ["rules.recruitment=true"],
        [
            "rules.n_players=5",
            "rules.n_traitors=1",
            "rules.banish_tie=no_banish",
            "rules.max_rounds=2",
        ],
        ["rules.murder_rule=plurality", "rules.conclave=false", "rules.discussion_turns=2"],
        [
            "rules.speaking_order=rotating",
            "rules.reveal_on_banish=false",
            "rules.banish_tie=random",
        ],
    ],
)
def test_rule_variants_hold_every_contract(traitors_yaml, overrides: list[str]) -> None:
    report = check_scenario(load_spec(traitors_yaml, overrides), range(100), "random")
    assert report.problems == []
    assert report.episodes == 100


class _LeakyConclave(TheTraitors):
    """Bug on purpose: the conclave is spoken in public."""

    def apply(self, state, actions):
        state, events = super().apply(state, actions)
        leaky = [
            e.model_copy(update={"visibility": PUBLIC}) if isinstance(e, SpeakEvent) else e
            for e in events
        ]
        return state, leaky


class _EarlyReveal(TheTraitors):
    """Bug on purpose: a living player's role is announced at breakfast."""

    def apply(self, state, actions):
        state, events = super().apply(state, actions)
        if state.phase == "discussion":
            living = state.alive[0]
            events.append(
                RevealEvent(
                    round=state.round, phase=state.phase, player=living, role=state.roles[living]
                )
            )
        return state, events


class _WrongWinner(TheTraitors):
    """Bug on purpose: reports the opposite winner."""

    def outcome(self, state):
        outcome = super().outcome(state)
        if outcome is None or outcome.winner is None:
            return outcome
        flipped = "faithful" if outcome.winner == "traitors" else "traitors"
        return type(outcome)(flipped, outcome.reason, outcome.rounds, outcome.truncated)


@pytest.mark.parametrize(
    ("rules_class", "symptom"),
    [
        (_LeakyConclave, "traitors' channel shown to a non-traitor"),
        (_EarlyReveal, "revealed"),
        (_WrongWinner, "but the log says"),
    ],
)
def test_broken_scenarios_are_caught(traitors_yaml, rules_class, symptom: str) -> None:
    name = rules_class.__name__.lower()
    register_scenario(name, rules_class)
    spec = load_spec(traitors_yaml).model_copy(update={"scenario": name})
    report = check_scenario(spec, range(5), "random")
    assert not report.ok
    assert any(symptom in p for p in report.problems), report.problems[:3]
