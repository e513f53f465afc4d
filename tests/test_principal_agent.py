"""The principal-agent shopping task: presets, overrides, and who sees the explanation."""

from __future__ import annotations

import asyncio

import pytest

from scenarios.principal_agent import (
    PRESETS,
    Case,
    CaseEvent,
    PrincipalAgentConfig,
    PurchaseEvent,
)
from traitors.episode.conformance import check_scenario
from traitors.episode.engine import run_episode
from traitors.episode.spec import validate_spec
from traitors.game.events import GodOnly, SpeakEvent, player_view

SEATS = ["Assistant", "Customer", "Company"]


def spec(policy: str = "heuristic", **rules: object):
    return validate_spec(
        {
            "name": "pa",
            "scenario": "principal_agent",
            "players": SEATS,
            "rules": rules,
            "agents": {"default": {"policy": policy}},
        }
    )


@pytest.mark.parametrize(
    ("condition", "audience"),
    [
        ("both", {"Assistant", "Customer", "Company"}),
        ("customer", {"Assistant", "Customer"}),
        ("company", {"Assistant", "Company"}),
        ("neither", {"Assistant"}),
    ],
)
def test_each_condition_reaches_exactly_the_parties_it_names(condition, audience) -> None:
    result = asyncio.run(run_episode(spec(condition=condition, questions=1), 0))
    explanation = next(e for e in result.events if e.phase == "explanation")
    seen_by = {seat for seat in SEATS if explanation in player_view(result.events, seat)}
    assert seen_by == audience
    purchase = next(e for e in result.events if isinstance(e, PurchaseEvent))
    assert all(purchase in player_view(result.events, seat) for seat in SEATS)
    company_brief = next(e for e in result.events if e.actor == "Company")
    assert company_brief not in player_view(result.events, "Customer")


def test_questions_are_asked_and_answered_privately() -> None:
    result = asyncio.run(run_episode(spec(questions=2), 0))
    talk = [
        e for e in result.events if isinstance(e, SpeakEvent) and e.phase in ("questions", "answer")
    ]
    assert [e.actor for e in talk] == ["Customer", "Assistant"]  # the heuristic asks once
    assert all(e not in player_view(result.events, "Company") for e in talk)


@pytest.mark.parametrize("case", sorted(PRESETS))
def test_a_loyal_assistant_buys_the_preferred_item(case: str) -> None:
    result = asyncio.run(run_episode(spec(case=case), 0))
    bought = next(e.item for e in result.events if isinstance(e, PurchaseEvent))
    assert bought == PRESETS[case].preferred
    assert result.outcome.winner == "customer"


def test_an_override_is_a_company_win() -> None:
    overrides = set()
    for seed in range(20):
        result = asyncio.run(run_episode(spec("random"), seed))
        bought = next(e.item for e in result.events if isinstance(e, PurchaseEvent))
        assert result.outcome.winner == ("customer" if bought == "ev" else "company")
        overrides.add(bought != "ev")
    assert overrides == {True, False}


CUSTOM = {**PRESETS["laptop"].model_dump(), "preferred": "gaming"}


@pytest.mark.parametrize("case", ["film", CUSTOM])
def test_the_case_is_logged_for_the_analysis_and_hidden_from_players(case) -> None:
    result = asyncio.run(run_episode(spec(case=case), 0))
    logged = [e for e in result.events if isinstance(e, CaseEvent)]
    assert len(logged) == 1 and isinstance(logged[0].visibility, GodOnly)
    assert all(logged[0] not in player_view(result.events, seat) for seat in SEATS)
    truth = PRESETS[case] if isinstance(case, str) else Case(**case)
    assert (logged[0].budget, logged[0].preferred) == (truth.budget, truth.preferred)
    assert [(i.id, i.name, i.price) for i in logged[0].catalogue] == [
        (i.id, i.name, i.price) for i in truth.catalogue
    ]
    assert {i.id: i.customer_utility for i in logged[0].catalogue} == truth.customer_utility
    assert {i.id: i.company_utility for i in logged[0].catalogue} == truth.company_utility


def test_cases_are_validated() -> None:
    with pytest.raises(ValueError, match="unknown case"):
        PrincipalAgentConfig(case="boat")
    paper = PRESETS["electric_car"].model_dump()
    with pytest.raises(ValueError, match="utility for every item"):
        Case(**{**paper, "customer_utility": {"ev": 1.0}})
    with pytest.raises(ValueError, match="not a feasible"):
        Case(**{**paper, "budget": 30_000})


@pytest.mark.parametrize("condition", ["both", "customer", "company", "neither"])
def test_conformance_over_300_seeds(condition: str) -> None:
    report = check_scenario(spec(condition=condition, questions=2), range(300), "random")
    assert report.problems == [] and report.episodes == 300
