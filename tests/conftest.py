"""Shared test helpers."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from scenarios.the_traitors import TheTraitors, TraitorsConfig, TraitorsState
from traitors.actions import Pass
from traitors.events import Event

ROOT = Path(__file__).resolve().parent.parent
TRAITORS_YAML = ROOT / "scenarios" / "the_traitors.yaml"


def make_game(
    players: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "G"),
    traitors: tuple[str, ...] = ("A", "B"),
    **options: object,
) -> tuple[TheTraitors, TraitorsState]:
    """Rules plus a setup state with the roles fixed by the test."""
    config = TraitorsConfig(n_players=len(players), n_traitors=len(traitors), **options)  # type: ignore[arg-type]
    rules = TheTraitors(config)
    state = rules.initial_state(players, random.Random(0))
    roles = {p: "traitor" if p in traitors else "faithful" for p in players}
    return rules, replace(state, roles=roles, channels={"traitors": frozenset(traitors)})


def run_to(
    rules: TheTraitors, state: TraitorsState, phase: str
) -> tuple[TraitorsState, list[Event]]:
    """Apply automatic steps and silent speeches until the game reaches ``phase``."""
    events: list[Event] = []
    while state.phase != phase:
        step = rules.plan(state)
        if step.requests and step.phase not in ("discussion", "conclave"):
            raise AssertionError(f"reached decision step {step.phase} before {phase}")
        state, new = rules.apply(state, {a: Pass() for a in step.requests})
        events += new
    return state, events


@pytest.fixture
def traitors_yaml() -> Path:
    return TRAITORS_YAML
