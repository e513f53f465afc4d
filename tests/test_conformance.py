"""The conformance check: 300 seeds per policy pass, every registered game holds every
contract and states its rules, and it catches broken scenarios and misstated rules."""

from __future__ import annotations

import fifth_game
import pytest
from games import GAMES, game_spec

from scenarios.the_traitors import TheTraitors
from traitors.cli import main
from traitors.episode.conformance import check_scenario
from traitors.episode.spec import load_spec
from traitors.game.events import PUBLIC, RevealEvent, SpeakEvent
from traitors.game.registry import register_analysis, register_scenario


@pytest.mark.parametrize("policy", ["random", "heuristic"])
@pytest.mark.slow
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
@pytest.mark.slow
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


# --- every registered game ---------------------------------------------------------------


@pytest.mark.parametrize("policy", ["random", "heuristic"])
@pytest.mark.parametrize("scenario", GAMES)
@pytest.mark.slow
def test_every_game_holds_every_contract_and_states_its_rules(scenario: str, policy: str) -> None:
    report = check_scenario(game_spec(scenario), range(20), policy)
    assert report.problems == []
    assert report.episodes == 20
    assert report.rules_text is not None and report.rules_text.declared, scenario
    assert report.rules_text.ok, report.rules_text.summary()
    assert report.ok


# --- the rules text ----------------------------------------------------------------------


class _MisstatedSpy(fifth_game.Spy):
    """Bug on purpose: the rules text names one player too many."""

    def describe(self) -> str:
        players = self.config.n_players
        return super().describe().replace(f"with {players} players", f"with {players + 1} players")


def test_a_rules_text_stating_other_rules_fails_the_check(capsys) -> None:
    register_scenario("misstated_spy", _MisstatedSpy)
    register_analysis("misstated_spy", fifth_game.ANALYSIS)
    report = check_scenario(game_spec("misstated_spy"), range(3), "random")
    assert report.problems == [] and not report.ok
    assert report.rules_text is not None
    assert [(m.fact, m.expected, m.stated) for m in report.rules_text.mismatches] == [
        ("players", "3", "4")
    ]
    assert main(["check", "misstated_spy", "--seeds", "2"]) == 1
    out = capsys.readouterr().out
    assert "FAIL the rules text differs from the rules played: players played 3, stated 4" in out
    assert main(["check", "misstated_spy", "--seeds", "2", "--set", "rules.n_players=5"]) == 1
    assert "players played 5, stated 6" in capsys.readouterr().out


def test_a_game_without_rule_facts_is_said_to_be_unchecked(capsys) -> None:
    register_scenario("spy_without_facts", fifth_game.Spy)  # no analysis plug-in
    report = check_scenario(game_spec("spy_without_facts"), range(3), "random")
    assert report.rules_text is not None and not report.rules_text.declared
    assert report.rules_text.summary() == "not checked: spy_without_facts declares no rule facts"
    assert report.ok  # every contract held; the rules text was not checked, and it says so
    assert main(["check", "spy_without_facts", "--seeds", "2"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "not checked: spy_without_facts declares no rule facts" in out
    assert "OK: every contract held (the rules text was not checked" in out
