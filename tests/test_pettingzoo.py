"""PettingZoo adapters: PettingZoo's own API and seed tests, play, rewards, leaks, engine parity.

The tests of every game run on each registered scenario (``tests/games.py``) with its
default rules: a new game is covered by registering it.
"""

from __future__ import annotations

import asyncio
import random
import re
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from games import GAMES
from pettingzoo.test import (  # type: ignore[import-untyped]
    api_test,
    parallel_api_test,
    parallel_seed_test,
    seed_test,
)

from scenarios.the_traitors import TheTraitors
from traitors.episode.engine import run_episode
from traitors.episode.policy import Decision, Observation
from traitors.episode.spec import AgentSpec, ScenarioSpec
from traitors.game.actions import Action, ActionRequest, Belief
from traitors.game.events import InvalidActionEvent, player_view
from traitors.game.lines import format_line
from traitors.pettingzoo import Catalogue, GameAECEnv, env, parallel_env, raw_env, reward

TRAITORS: dict[str, Any] = {"n_players": 5, "n_traitors": 1, "max_rounds": 3}
"""A small, quick table of The Traitors, for the tests of that game's adapter."""

PETTINGZOO_ALLOWED = {
    "Observation space for each agent probably should be gymnasium.spaces.box or "
    "gymnasium.spaces.discrete": "each observation is a Dict of the observation and its action "
    "mask, the form PettingZoo's own action-masking environments use",
    'We recommend agents to be named in the format <descriptor>_<number>, like "player_0"': (
        "agents are the game's player names (Alice, Bob), as its events and logs name them"
    ),
    "Observation is not a NumPy array": "a Dict observation is a dict of NumPy arrays",
}
"""PettingZoo's warnings that are style advice, with why each is allowed; every other warning
PettingZoo gives (an action mask of all zeros, an agent given a value after it died...) fails
the test."""


@pytest.fixture(autouse=True)
def pettingzoo_warnings_fail() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("error", module=r"pettingzoo(\.|$)")
        for message in PETTINGZOO_ALLOWED:
            warnings.filterwarnings("ignore", message=re.escape(message), module="pettingzoo")
        yield


@pytest.fixture(params=GAMES)
def scenario(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def play(aec: Any, seed: int) -> list[tuple[str, Action]]:
    """Play one AEC episode with random legal moves; return (agent, action) per move."""
    aec.reset(seed=seed)
    game, catalogue = aec.unwrapped.game, aec.unwrapped.catalogue
    rng = np.random.default_rng(seed)
    moves = []
    for agent in aec.agent_iter():
        obs, _, terminated, truncated, _ = aec.last()
        if terminated or truncated:
            aec.step(None)
            continue
        index = int(rng.choice(np.flatnonzero(obs["action_mask"])))
        moves.append((agent, catalogue.action(index, game.requests[agent])))
        aec.step(index)
    return moves


def test_pettingzoo_api_test(scenario: str) -> None:
    api_test(env(scenario), num_cycles=1000)


def test_pettingzoo_parallel_api_test(scenario: str) -> None:
    parallel_api_test(parallel_env(scenario), num_cycles=1000)


def test_pettingzoo_seed_tests(scenario: str) -> None:
    seed_test(lambda: env(scenario), num_cycles=500)
    parallel_seed_test(lambda: parallel_env(scenario), num_cycles=500)


def test_random_legal_games_end_with_outcome_rewards(scenario: str) -> None:
    aec = env(scenario)
    for seed in range(8):
        aec.reset(seed=seed)
        game = aec.unwrapped.game
        rng = np.random.default_rng(seed)
        finished: dict[str, float] = {}
        for agent in aec.agent_iter():
            obs, cumulative, terminated, truncated, _ = aec.last()
            assert aec.observation_space(agent).contains(obs)
            if terminated or truncated:
                outcome = game.outcome
                role = game.state.roles[agent]
                expected = reward(aec.unwrapped.rules, role, outcome) if outcome else 0.0
                assert cumulative == expected
                finished[agent] = cumulative
                aec.step(None)
                continue
            assert game.requests[agent].actor == agent
            aec.step(int(rng.choice(np.flatnonzero(obs["action_mask"]))))
        assert game.outcome is not None
        assert game.events[-1].kind == "game_over"
        assert set(finished) == set(aec.possible_agents)
        assert not [e for e in game.events if isinstance(e, InvalidActionEvent)]


def test_same_seed_same_episode_and_unseeded_resets_follow_it(scenario: str) -> None:
    one, two = (env(scenario) for _ in range(2))
    assert play(one, 11) == play(two, 11)
    assert one.unwrapped.game.events == two.unwrapped.game.events
    one.reset()
    two.reset()
    assert one.unwrapped.game.state == two.unwrapped.game.state
    if dealt_at_random(scenario):  # the shopping task has no randomness to differ in
        two.reset(seed=11)
        assert one.unwrapped.game.state != two.unwrapped.game.state


def dealt_at_random(scenario: str, seeds: int = 6) -> bool:
    """Whether every seed of a few starts the game in a state of its own."""
    aec = env(scenario)
    states = set()
    for seed in range(seeds):
        aec.reset(seed=seed)
        states.add(repr(aec.unwrapped.game.state))
    return len(states) == seeds


def test_text_is_exactly_the_players_view(scenario: str) -> None:
    aec = env(scenario)
    for seed in range(3):
        play(aec, seed)
        events = aec.unwrapped.game.events
        words = aec.unwrapped.rules.words
        for agent in aec.possible_agents:
            lines = [format_line(e, words) for e in player_view(events, agent)]
            assert aec.unwrapped.observe(agent)["text"] == "\n".join(x for x in lines if x)


def test_faithful_never_see_the_traitors_channel() -> None:
    aec = env("the_traitors", **TRAITORS)
    seen_by_traitors = 0
    for seed in range(5):
        play(aec, seed)
        game = aec.unwrapped.game
        for agent in aec.possible_agents:
            text = aec.unwrapped.observe(agent)["text"]
            if game.state.roles[agent] == "faithful":
                assert "[traitors]" not in text
                assert "murder_vote" not in text
            else:
                seen_by_traitors += "[traitors]" in text
    assert seen_by_traitors > 0


class _Replay:
    """A policy replaying the actions a seat took in the PettingZoo env."""

    def __init__(self, actions: list[Action]) -> None:
        self.actions = actions

    async def decide(self, observation: Observation, request: ActionRequest) -> Decision:
        return Decision(self.actions.pop(0))


@pytest.mark.parametrize("seed", [5, 6])
def test_same_events_as_the_engine(scenario: str, seed: int) -> None:
    aec = raw_env(scenario)
    taken: dict[str, list[Action]] = {agent: [] for agent in aec.possible_agents}
    for agent, action in play(aec, seed):
        taken[agent].append(action)
    spec = ScenarioSpec(
        name="pz",
        scenario=scenario,
        agents={"default": AgentSpec(policy="random")},
    )
    policies = {agent: _Replay(actions) for agent, actions in taken.items()}
    result = asyncio.run(run_episode(spec, seed, policies=policies))
    assert result.events == aec.game.events


def test_parallel_env_takes_one_decision_per_step(scenario: str) -> None:
    par = parallel_env(scenario)
    observations, _ = par.reset(seed=1)
    rng = random.Random(1)
    while par.agents:
        asked = set(par.game.requests)
        for agent in par.agents:
            mask = observations[agent]["action_mask"]
            assert mask.any()
            if agent not in asked:
                assert mask.tolist() == [1] + [0] * (len(mask) - 1)
        actions = {
            a: rng.choice(np.flatnonzero(observations[a]["action_mask"])) for a in par.agents
        }
        observations, *_ = par.step(actions)
    assert par.game.outcome is not None


def test_masked_action_applies_the_default_and_logs_it() -> None:
    aec = raw_env("the_traitors", **TRAITORS)
    aec.reset(seed=0)
    agent = aec.agent_selection
    request = aec.game.requests[agent]
    mask = aec.observe(agent)["action_mask"]
    illegal = int(np.flatnonzero(mask == 0)[0])
    aec.step(illegal)
    invalid = [e for e in aec.game.events if isinstance(e, InvalidActionEvent)]
    assert [(e.actor, e.applied) for e in invalid] == [(agent, request.default.model_dump_json())]
    assert aec.catalogue.label(illegal) == invalid[0].attempted
    assert "invalid action" in aec.observe(agent)["text"]
    assert aec.agents  # the game goes on


def test_catalogue_maps_requests_to_legal_actions() -> None:
    aec = raw_env("the_traitors", **TRAITORS)
    catalogue: Catalogue = aec.catalogue
    labels = catalogue.labels
    assert labels[0] == "pass"
    assert {"vote Alice", "accuse Erin", "defend Bob", "claim traitor", "accept", "refuse"} <= set(
        labels
    )
    belief = ActionRequest(
        actor="Alice",
        purpose="belief",
        prompt="",
        kinds=("belief",),
        targets=("Bob", "Carol"),
        default=Belief(probs={}),
    )
    mask = catalogue.mask(belief)
    assert [labels[i] for i in np.flatnonzero(mask)] == ["pass", "belief uniform"]
    action = catalogue.action(labels.index("belief uniform"), belief)
    assert action.model_dump() == {"kind": "belief", "probs": {"Bob": 0.5, "Carol": 0.5}}
    assert (
        catalogue.resolve(len(labels), belief)[1] == f"action {len(labels)} is not in the catalogue"
    )


def test_truncated_game_gives_zero_rewards() -> None:
    options = {"n_players": 7, "n_traitors": 1, "max_rounds": 1}
    par = parallel_env("the_traitors", **options)
    for seed in range(20):
        par.reset(seed=seed)
        while par.agents:
            actions = dict.fromkeys(par.agents, 0)  # everyone passes: nobody is banished
            _, rewards, terminated, truncated, _ = par.step(actions)
        outcome = par.game.outcome
        assert outcome is not None and outcome.truncated
        assert set(rewards.values()) == {0.0}
        alive = set(par.game.state.alive)
        assert {a for a, t in truncated.items() if t} == alive
        assert {a for a, t in terminated.items() if t} == set(terminated) - alive


def test_the_phase_one_hot_follows_the_state() -> None:
    aec = raw_env("the_traitors", **TRAITORS)
    aec.reset(seed=0)
    vector = aec.observe("Alice")["observation"]
    phases = TheTraitors.phases
    assert vector[-len(phases) :].tolist() == [float(p == aec.game.state.phase) for p in phases]


def test_observation_vector_and_render(capsys: pytest.CaptureFixture[str]) -> None:
    aec = raw_env("the_traitors", render_mode="human", **TRAITORS)
    aec.reset(seed=2)
    state = aec.game.state
    traitor = next(p for p in state.players if state.roles[p] == "traitor")
    vector = aec.observe(traitor)["observation"]
    seats = len(state.players)
    own, alive, allies = (vector[2 + i * seats : 2 + (i + 1) * seats] for i in range(3))
    assert own.tolist() == [float(p == traitor) for p in state.players]
    assert alive.tolist() == [1.0] * seats
    assert allies.tolist() == [0.0] * seats  # the only traitor
    roles = vector[2 + 3 * seats : 2 + 3 * seats + 2]
    assert roles.tolist() == [0.0, 1.0]  # roles: faithful, traitor; then the phase
    aec.render()
    assert "Alice" in capsys.readouterr().out
    aec.render()
    assert capsys.readouterr().out == ""


def test_text_is_truncated_from_the_front() -> None:
    aec = raw_env("the_traitors", max_text_chars=200, **TRAITORS)
    play(aec, 0)
    full = "\n".join(aec.game.lines("Alice"))
    text = aec.observe("Alice")["text"]
    assert len(text) <= 200 and full.endswith(text)
    assert aec.observation_space("Alice")["text"].contains(text)


def test_bad_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="n_traitors"):
        env("the_traitors", n_players=4, n_traitors=2)
    with pytest.raises(ValueError, match="render_mode"):
        parallel_env("the_traitors", render_mode="rgb_array")
    assert isinstance(raw_env("the_traitors"), GameAECEnv)
