"""Shared test helpers."""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before anything imports litellm
os.environ.setdefault("LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS", "True")  # nor fetches at a call

import ipaddress
import random
import socket
from dataclasses import replace
from pathlib import Path

import fifth_game
import pytest

from scenarios.the_traitors import TheTraitors, TraitorsConfig, TraitorsState
from traitors.game.events import Event
from traitors.game.registry import register_analysis, register_scenario

# A fifth game registered only here (tests/fifth_game/): every test that covers each
# registered game covers it too.
register_scenario(fifth_game.NAME, fifth_game.Spy)
register_analysis(fifth_game.NAME, fifth_game.ANALYSIS)

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
        if step.requests and step.phase not in ("discussion", "conclave", "belief_probe"):
            raise AssertionError(f"reached decision step {step.phase} before {phase}")
        state, new = rules.apply(state, {a: r.default for a, r in step.requests.items()})
        events += new
    return state, events


@pytest.fixture
def traitors_yaml() -> Path:
    return TRAITORS_YAML


class NetworkBlocked(RuntimeError):
    """A test tried to reach the network."""


def _is_loopback(host: object) -> bool:
    """Whether ``host`` is a loopback address (``127.0.0.0/8``, ``::1``) or ``localhost``; a
    name such as ``127.example.com`` is not: looking it up would reach the network."""
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.partition("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection or name lookup beyond loopback is an error in tests."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0] if isinstance(address, tuple) else address
            if not _is_loopback(host):
                raise NetworkBlocked(f"tests must not reach the network (tried {host})")

    def connect(sock: socket.socket, address: object) -> None:
        check(sock, address)
        real_connect(sock, address)  # type: ignore[arg-type]

    def connect_ex(sock: socket.socket, address: object) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)  # type: ignore[arg-type]

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if host is not None and not _is_loopback(host):
            raise NetworkBlocked(f"tests must not reach the network (looked up {host})")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
