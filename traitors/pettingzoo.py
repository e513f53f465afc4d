"""PettingZoo adapters: any registered scenario as an AEC or a parallel multi-agent env.

``env("the_traitors", n_players=5, n_traitors=2)`` gives an AEC env, ``parallel_env(...)`` a
parallel one (rule options the scenario does not take raise a one-line ``ValueError``).
Both are thin maps onto the ``EpisodeCore`` (the same loop ``run_episode`` drives): the
actors of a sequential step act one by one, each applied on its own; a simultaneous step's
actions are applied together, sorted by agent id; automatic steps run by themselves. Agents
are the seats (``Alice``, ``Bob``, ...); eliminated players are terminated and leave
``agents``.

Observations are a ``Dict``:

- ``text``: the lines of every event the agent has seen (``visible_to``), oldest first, in
  the scenario's words, truncated from the front to ``max_text_chars``;
- ``observation``: a float Box in [0, 1]: round / max_rounds, whether the agent must act
  now, then per seat: own seat, alive, known ally (from the agent's role event); then its
  own role one-hot, then the phase one-hot;
- ``action_mask``: int8 over the action catalogue, 1 where the action is legal now.

The action space is ``Discrete(len(catalogue))``, the same for every agent: see
``Catalogue``. An agent with nothing to decide (only in the parallel env) must pick 0; its
action is ignored. A masked action is not an error: like the engine after a failed repair,
the core applies the request's default and logs a private ``invalid_action`` event.

Rewards come at the end only: +1 for the winning side, -1 for the others, 0 for a draw or a
truncated game (the round limit), given to every agent still in the game at that step.
Players eliminated earlier leave with 0.

What a scenario provides besides the ``GameRules`` protocol (``roles``, ``phases``,
``faction``, ``seat_count()``, ``config.max_rounds``): the catalogue entries of its own
action kinds (``ActionBase.catalogue``).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium
import numpy as np
import numpy.typing as npt
from gymnasium import spaces
from pettingzoo import AECEnv, ParallelEnv  # type: ignore[import-untyped]
from pettingzoo.utils import wrappers  # type: ignore[import-untyped]
from pydantic import ValidationError

from traitors.episode.core import EpisodeCore
from traitors.episode.policy import Decision
from traitors.episode.spec import DEFAULT_NAMES, build_rules, format_errors
from traitors.game.actions import (
    Accuse,
    Action,
    ActionError,
    ActionRequest,
    Belief,
    ClaimRole,
    Defend,
    Pass,
    Respond,
    Speak,
    Vote,
)
from traitors.game.events import Event, RoleEvent
from traitors.game.lines import format_line
from traitors.game.rules import GameRules, GameState, Outcome
from traitors.game.seeds import derive_seed

MAX_TEXT_CHARS = 16_384
"""Default length limit of the ``text`` observation."""
LINE_CHARS = frozenset(string.digits + string.ascii_letters + string.punctuation + " ")
"""Characters a rendered event line may hold; others are replaced."""
CHARSET = LINE_CHARS | {"\n"}
"""Character set of the ``text`` observation: printable ASCII, lines joined by newlines."""
CANNED_SPEECH = (
    "I have nothing to add.",
    "Let us hear from everyone before we decide.",
    "Something here does not add up.",
)
"""Speech acts without claims, legal wherever speaking is."""

Obs = dict[str, Any]
"""One agent's observation: ``text``, ``observation`` and ``action_mask``."""


# --- what the adapter reads from a scenario ----------------------------------------------


@dataclass(frozen=True)
class ScenarioShape:
    """The fixed facts of a scenario that the spaces are built from."""

    seats: tuple[str, ...]
    roles: tuple[str, ...]
    phases: tuple[str, ...]
    max_rounds: int

    @classmethod
    def of(cls, rules: GameRules[Any]) -> ScenarioShape:
        """Read the shape from the rules."""
        count = rules.seat_count()
        if count > len(DEFAULT_NAMES):
            raise ValueError(f"{count} seats but only {len(DEFAULT_NAMES)} seat names")
        return cls(
            seats=DEFAULT_NAMES[:count],
            roles=tuple(rules.roles),
            phases=tuple(rules.phases),
            max_rounds=rules.config.max_rounds,
        )


def reward(rules: GameRules[Any], role: str, outcome: Outcome) -> float:
    """+1 if ``role``'s side won, -1 if another side won, 0 for a draw."""
    if outcome.winner is None:
        return 0.0
    return 1.0 if outcome.winner == rules.faction(role) else -1.0


# --- the action catalogue ----------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueMove:
    """One entry of the catalogue: a label and the action it stands for."""

    label: str
    action: Action | None
    """None: pass, or the request's default where passing is not allowed. A ``Belief``
    stands for probability 0.5 for every target of the request."""


class Catalogue:
    """The fixed discrete actions of a scenario, mapped to the Action each request allows.

    In order: 0 pass (or the request's default); vote for each seat; accuse and defend each
    seat (a canned speech with that claim); claim each role; accept, refuse; report a
    uniform belief; the canned speech acts; then the scenario's own kinds' entries.
    """

    def __init__(self, rules: GameRules[Any], shape: ScenarioShape) -> None:
        seats = shape.seats
        moves = [CatalogueMove("pass", None)]
        moves += [CatalogueMove(f"vote {s}", Vote(target=s)) for s in seats]
        moves += [
            CatalogueMove(f"accuse {s}", _speech(f"I accuse {s}.", Accuse(target=s))) for s in seats
        ]
        moves += [
            CatalogueMove(f"defend {s}", _speech(f"I trust {s}.", Defend(target=s))) for s in seats
        ]
        moves += [
            CatalogueMove(f"claim {r}", _speech(f"My role is {r}.", ClaimRole(role=r)))
            for r in shape.roles
        ]
        moves += [
            CatalogueMove("accept", Respond(accept=True)),
            CatalogueMove("refuse", Respond(accept=False)),
        ]
        moves.append(CatalogueMove("belief uniform", Belief(probs={})))
        moves += [CatalogueMove(f"say {text}", Speak(text=text)) for text in CANNED_SPEECH]
        for kind in rules.action_kinds:
            moves += [
                CatalogueMove(label, action) for label, action in kind.catalogue(rules, seats)
            ]
        self.moves: tuple[CatalogueMove, ...] = tuple(moves)
        self._by_kind: dict[str, list[int]] = {}
        for index, move in enumerate(self.moves):
            if move.action is not None:
                self._by_kind.setdefault(move.action.kind, []).append(index)

    def __len__(self) -> int:
        return len(self.moves)

    @property
    def labels(self) -> tuple[str, ...]:
        """The label of every index."""
        return tuple(move.label for move in self.moves)

    def label(self, index: int | None) -> str:
        """The label of ``index``, or the raw index if it is not in the catalogue."""
        if index is not None and 0 <= index < len(self.moves):
            return self.moves[index].label
        return repr(index)

    def action(self, index: int, request: ActionRequest) -> Action:
        """The action index ``index`` stands for under ``request`` (not yet checked)."""
        template = self.moves[index].action
        if template is None:
            return Pass() if "pass" in request.kinds else request.default
        if isinstance(template, Belief):
            return Belief(probs=dict.fromkeys(request.targets, 0.5))
        return template

    def resolve(self, index: int | None, request: ActionRequest) -> tuple[Action, str | None]:
        """The legal action for ``index``, or the request's default and the error."""
        if index is None:
            return request.default, "no action given"
        if not 0 <= index < len(self.moves):
            return request.default, f"action {index} is not in the catalogue"
        action = self.action(index, request)
        try:
            request.check(action)
        except ActionError as exc:
            return request.default, f"{self.moves[index].label!r} not legal: {exc}"
        return action, None

    def mask(self, request: ActionRequest | None) -> npt.NDArray[np.int8]:
        """1 where the action is legal for ``request``; only 0 (ignored) when not asked."""
        mask = np.zeros(len(self.moves), dtype=np.int8)
        mask[0] = 1 if request is None else self.resolve(0, request)[1] is None
        if request is None:
            return mask
        for kind in request.kinds:  # only entries of an allowed kind can be legal
            for index in self._by_kind.get(kind, ()):
                mask[index] = self.resolve(index, request)[1] is None
        return mask


def _speech(text: str, claim: Accuse | Defend | ClaimRole) -> Speak:
    return Speak(text=text, claims=(claim,))


# --- one episode, step by step ----------------------------------------------------------


class Game:
    """One episode on the core, advanced by catalogue indices."""

    def __init__(
        self, rules: GameRules[Any], shape: ScenarioShape, catalogue: Catalogue, seed: int
    ) -> None:
        self.catalogue = catalogue
        self.words = rules.words
        self.core = EpisodeCore(rules, shape.seats, seed)
        self._lines: dict[str, list[str]] = {p: [] for p in self.core.players}
        self._roles: dict[str, RoleEvent] = {}
        self._read: dict[str, int] = dict.fromkeys(self.core.players, 0)

    @property
    def state(self) -> GameState:
        """The rules' state now."""
        return self.core.state

    @property
    def events(self) -> list[Event]:
        """Every event so far (the god's view)."""
        return self.core.events

    @property
    def requests(self) -> dict[str, ActionRequest]:
        """Who must decide now (one actor of a sequential step, or a simultaneous step)."""
        return self.core.pending

    @property
    def outcome(self) -> Outcome | None:
        """The result once the game is over."""
        return self.core.outcome

    def act(self, moves: Mapping[str, int | None]) -> None:
        """Apply the catalogue moves of everyone asked now (missing or illegal: the default)."""
        if not self.core.pending:
            raise RuntimeError("the episode is over; reset the env")
        answers = {}
        for agent, request in self.core.pending.items():
            index = moves.get(agent)
            action, error = self.catalogue.resolve(index, request)
            answers[agent] = (
                Decision(action)
                if error is None
                else Decision(None, error, self.catalogue.label(index))
            )
        self.core.submit(answers)

    def lines(self, agent: str) -> list[str]:
        """The agent's view as lines."""
        self._catch_up(agent)
        return self._lines[agent]

    def role_event(self, agent: str) -> RoleEvent | None:
        """The agent's latest role event about itself."""
        self._catch_up(agent)
        return self._roles.get(agent)

    def _catch_up(self, agent: str) -> None:
        """Render the events the agent saw since the last call (each event once)."""
        seen = self.core.seen[agent]
        for event in seen[self._read[agent] :]:
            if isinstance(event, RoleEvent) and event.player == agent:
                self._roles[agent] = event
            line = format_line(event, self.words)
            if line is not None:
                self._lines[agent].append(_clean(line))
        self._read[agent] = len(seen)


def _clean(line: str) -> str:
    return "".join(c if c in LINE_CHARS else (" " if c.isspace() else "?") for c in line)


# --- the envs ----------------------------------------------------------------------------


class _Adapter:
    """What the AEC and the parallel env share: rules, spaces, observations, rendering."""

    agents: list[str]
    possible_agents: list[str]
    render_mode: str | None
    _RENDER_MODES: ClassVar[tuple[str, ...]] = ("human", "ansi")

    def __init__(
        self,
        scenario: str,
        options: Mapping[str, Any],
        render_mode: str | None = None,
        max_text_chars: int = MAX_TEXT_CHARS,
    ) -> None:
        if render_mode not in (None, *self._RENDER_MODES):
            raise ValueError(f"render_mode must be one of {self._RENDER_MODES} or None")
        self.rules: GameRules[Any] = _rules(scenario, options)
        self.shape = ScenarioShape.of(self.rules)
        self.catalogue = Catalogue(self.rules, self.shape)
        self.render_mode = render_mode
        self.max_text_chars = max_text_chars
        self.metadata = {
            "name": f"{scenario}_v0",
            "render_modes": list(self._RENDER_MODES),
            "is_parallelizable": False,
        }
        self.possible_agents = list(self.shape.seats)
        self._observation_spaces = {
            a: self._build_observation_space() for a in self.possible_agents
        }
        self._action_spaces = {
            a: spaces.Discrete(len(self.catalogue)) for a in self.possible_agents
        }
        self._next_seed: int | None = None
        self._rendered = 0
        self._game: Game | None = None

    @property
    def game(self) -> Game:
        """The current episode (after ``reset``)."""
        if self._game is None:
            raise RuntimeError("call reset() first")
        return self._game

    def observation_space(self, agent: str) -> spaces.Dict:
        """The agent's observation space (the same object every time)."""
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Discrete:
        """The agent's action space (the same object every time)."""
        return self._action_spaces[agent]

    def _build_observation_space(self) -> spaces.Dict:
        shape = self.shape
        size = 2 + 3 * len(shape.seats) + len(shape.roles) + len(shape.phases)
        return spaces.Dict(
            {
                "text": spaces.Text(self.max_text_chars, min_length=0, charset=frozenset(CHARSET)),
                "observation": spaces.Box(0.0, 1.0, shape=(size,), dtype=np.float32),
                "action_mask": spaces.MultiBinary(len(self.catalogue)),
            }
        )

    def _start(self, seed: int | None) -> None:
        """A new episode; without a seed, the next of the last seeded one (or a fresh one)."""
        if seed is None:
            seed = secrets.randbits(63) if self._next_seed is None else self._next_seed
        self._next_seed = derive_seed(seed, "next")
        self._game = Game(self.rules, self.shape, self.catalogue, seed)
        self._rendered = 0

    def _observe(self, agent: str) -> Obs:
        game = self.game
        return {
            "text": self._text(game.lines(agent)),
            "observation": self._vector(agent),
            "action_mask": self.catalogue.mask(game.requests.get(agent)),
        }

    def _text(self, lines: list[str]) -> str:
        text = "\n".join(lines)
        if len(text) <= self.max_text_chars:
            return text
        text = text[len(text) - self.max_text_chars :]
        cut = text.find("\n")
        return text[cut + 1 :] if cut >= 0 else text

    def _vector(self, agent: str) -> npt.NDArray[np.float32]:
        game, shape = self.game, self.shape
        state = game.state
        role_event = game.role_event(agent)
        allies = role_event.allies if role_event else ()
        parts = [
            min(state.round, shape.max_rounds) / shape.max_rounds,
            agent in game.requests,
            *(seat == agent for seat in shape.seats),
            *(seat in state.alive for seat in shape.seats),
            *(seat in allies for seat in shape.seats),
            *(role_event is not None and role == role_event.role for role in shape.roles),
            *(phase == state.phase for phase in shape.phases),
        ]
        return np.array(parts, dtype=np.float32)

    def _settle(
        self, agents: Sequence[str]
    ) -> tuple[dict[str, float], dict[str, bool], dict[str, bool]]:
        """Rewards, terminations and truncations of ``agents`` after the last move."""
        game = self.game
        outcome = game.outcome
        rewards, terminated, truncated = {}, {}, {}
        for agent in agents:
            dead = agent not in game.state.alive
            rewards[agent] = (
                reward(self.rules, game.state.roles[agent], outcome) if outcome else 0.0
            )
            terminated[agent] = dead or (outcome is not None and not outcome.truncated)
            truncated[agent] = not dead and outcome is not None and outcome.truncated
        return rewards, terminated, truncated

    def render(self) -> str | None:
        """``ansi``: the god's view so far; ``human``: print the lines since the last call."""
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode")
            return None
        words = self.rules.words
        lines = [line for event in self.game.events if (line := format_line(event, words))]
        if self.render_mode == "ansi":
            return "\n".join(lines)
        for line in lines[self._rendered :]:
            print(line)
        self._rendered = len(lines)
        return None

    def close(self) -> None:
        """Nothing to release."""


class GameAECEnv(_Adapter, AECEnv):  # type: ignore[misc]
    """A scenario as a PettingZoo AEC env: only the agents asked to decide are selected."""

    agent_selection: str

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Start an episode; the same seed gives the same episode (``options`` is unused)."""
        self._start(seed)
        self.agents = list(self.possible_agents)
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos: dict[str, dict[str, Any]] = {a: {} for a in self.agents}
        self._waiting: list[str] = []
        self._moves: dict[str, int | None] = {}
        self._skip_agent_selection: str | None = None
        self._select_next()

    def observe(self, agent: str) -> Obs:
        """The agent's current observation."""
        return self._observe(agent)

    def step(self, action: int | None) -> None:
        """Record the selected agent's move; apply the step once everyone asked has moved."""
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        self._cumulative_rewards[agent] = 0.0
        self._clear_rewards()
        self._moves[agent] = None if action is None else int(action)
        self._waiting.remove(agent)
        if self._waiting:
            self.agent_selection = self._waiting[0]
            return
        self.game.act(self._moves)
        rewards, terminated, truncated = self._settle(self.agents)
        self.rewards.update(rewards)
        self.terminations.update(terminated)
        self.truncations.update(truncated)
        self._accumulate_rewards()
        self._select_next()

    def _select_next(self) -> None:
        self._waiting = list(self.game.requests)
        self._moves = {}
        if self._waiting:
            self.agent_selection = self._waiting[0]
        self._deads_step_first()


class GameParallelEnv(_Adapter, ParallelEnv):  # type: ignore[misc]
    """A scenario as a PettingZoo parallel env: each step is one decision of the game.

    Every living agent sends an action; only those asked now (one actor of a sequential
    step, or everyone asked in a simultaneous step) count. The others' masks allow only 0,
    and whatever they send is ignored.
    """

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Obs], dict[str, dict[str, Any]]]:
        """Start an episode; the same seed gives the same episode (``options`` is unused)."""
        self._start(seed)
        self.agents = list(self.possible_agents)
        return {a: self._observe(a) for a in self.agents}, {a: {} for a in self.agents}

    def step(
        self, actions: Mapping[str, int]
    ) -> tuple[
        dict[str, Obs],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        """Apply the moves of the agents asked now; return every living agent's results."""
        self.game.act({a: int(actions[a]) for a in self.game.requests if a in actions})
        agents = self.agents
        rewards, terminated, truncated = self._settle(agents)
        observations = {a: self._observe(a) for a in agents}
        self.agents = [a for a in agents if not (terminated[a] or truncated[a])]
        return observations, rewards, terminated, truncated, {a: {} for a in agents}


def env(scenario: str, **options: Any) -> AECEnv:
    """An AEC env of ``scenario``; ``options`` are its rule options plus ``render_mode`` and
    ``max_text_chars``. Wrapped to assert in-bounds actions and the call order."""
    raw = raw_env(scenario, **options)
    return wrappers.OrderEnforcingWrapper(wrappers.AssertOutOfBoundsWrapper(raw))


def raw_env(scenario: str, **options: Any) -> GameAECEnv:
    """The unwrapped AEC env of ``scenario`` (see ``env``)."""
    return GameAECEnv(scenario, *_split(options))


def parallel_env(scenario: str, **options: Any) -> GameParallelEnv:
    """A parallel env of ``scenario``; ``options`` as for ``env``."""
    return GameParallelEnv(scenario, *_split(options))


def _rules(scenario: str, options: Mapping[str, Any]) -> GameRules[Any]:
    """The scenario's rules; ValueError in one line for options it does not take."""
    try:
        return build_rules(scenario, options)
    except ValidationError as exc:
        raise ValueError(format_errors(scenario, exc, prefix="options")) from None


def _split(options: dict[str, Any]) -> tuple[dict[str, Any], str | None, int]:
    rules_options = dict(options)
    render_mode = rules_options.pop("render_mode", None)
    max_text_chars = int(rules_options.pop("max_text_chars", MAX_TEXT_CHARS))
    return rules_options, render_mode, max_text_chars
