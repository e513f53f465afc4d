"""The rules contract every scenario implements. Nothing here does I/O or calls a model."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from traitors.game.actions import Action, ActionBase, ActionRequest, register_action_kinds
from traitors.game.events import ChannelState, Event, EventBase, register_event_kinds
from traitors.game.words import Words


class RulesConfig(BaseModel):
    """Base of every scenario's rule options; unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_rounds: int = 12
    """Rounds after which the game ends as a draw (truncated)."""

    later_options: ClassVar[Mapping[str, Any]] = {}
    """Options added after episode ids were fixed -> their default: left out of the id while
    at it, so that an episode keeps its id (and a sweep resumes) across versions."""

    def id_options(self) -> dict[str, Any]:
        """The options as an episode's id hashes them."""
        options = self.model_dump(mode="json")
        for name, default in self.later_options.items():
            if options.get(name) == default:
                del options[name]
        return options


class IllegalTransition(RuntimeError):
    """A phase change the scenario's state machine does not allow."""


@dataclass(frozen=True)
class Step:
    """What happens next: a phase, who acts, and whether they act one by one or together.

    A step with no requests is automatic: the engine applies it with no actions.
    """

    phase: str
    requests: Mapping[str, ActionRequest] = field(default_factory=dict)
    """Actor -> what they may do, in acting order."""
    simultaneous: bool = False
    """True: all decide on the same snapshot and are applied together."""


@dataclass(frozen=True)
class Outcome:
    """How an episode ended."""

    winner: str | None
    """Winning faction, or None for a draw."""
    reason: str
    """Why the game ended."""
    rounds: int
    """Rounds played."""
    truncated: bool = False
    """True if the round limit ended the game."""


class GameState(ChannelState, Protocol):
    """What the engine reads from any scenario's state."""

    @property
    def round(self) -> int:
        """Current round."""
        ...

    @property
    def phase(self) -> str:
        """Current phase."""
        ...

    @property
    def players(self) -> tuple[str, ...]:
        """All seats, in seat order."""
        ...

    @property
    def alive(self) -> tuple[str, ...]:
        """Seats still in the game."""
        ...

    @property
    def roles(self) -> Mapping[str, str]:
        """Player -> current role (god knowledge)."""
        ...


S = TypeVar("S", bound=GameState)
C = TypeVar("C", bound=RulesConfig)


class GameRules(Protocol[S]):
    """A scenario: pure functions from state and actions to state and events."""

    name: ClassVar[str]
    config_model: ClassVar[type[RulesConfig]]
    roles: ClassVar[tuple[str, ...]]
    phases: ClassVar[tuple[str, ...]]
    """Every phase of the game's state machine."""
    words: ClassVar[Words]
    """The game's factions and how prompts, views and tables name its things."""
    event_kinds: ClassVar[tuple[type[EventBase], ...]]
    """The scenario's own event kinds (beyond the engine's)."""
    action_kinds: ClassVar[tuple[type[ActionBase], ...]]
    """The scenario's own action kinds (beyond the engine's)."""

    @property
    def config(self) -> RulesConfig:
        """The validated rule options."""
        ...

    def seat_count(self) -> int:
        """How many seats the game has."""
        ...

    def describe(self) -> str:
        """The rules in plain words, for agents' prompts."""
        ...

    def faction(self, role: str) -> str:
        """The side a role plays for, as ``Outcome.winner`` names it."""
        ...

    def initial_state(self, players: Sequence[str], rng: random.Random) -> S:
        """The state before the first step; roles are dealt with ``rng``."""
        ...

    def setup_events(self, state: S) -> list[Event]:
        """Events announcing the start (roles dealt privately)."""
        ...

    def plan(self, state: S) -> Step:
        """The next step."""
        ...

    def apply(self, state: S, actions: Mapping[str, Action]) -> tuple[S, list[Event]]:
        """Apply the (validated) actions of a step or of one actor of a sequential step."""
        ...

    def outcome(self, state: S) -> Outcome | None:
        """The result if the game is over, else None."""
        ...

    def judge(self, events: Sequence[Event]) -> str | None:
        """The winner according to the god's-eye event log alone (None: no winner yet).

        The conformance check compares it with ``outcome``: two derivations, one answer.
        """
        ...

    def audit(self, state: S, event: Event, viewer: str) -> str | None:
        """A scenario-specific reason why ``viewer`` must not see ``event``, or None.

        Used by the conformance check as a second, independent opinion next to
        ``visible_to``: it knows what the game's secrets are.
        """
        ...


class RulesBase(Generic[S, C]):
    """Convenience base: holds the validated config, registers the scenario's own kinds,
    and reads factions from its words."""

    name: ClassVar[str]
    config_model: ClassVar[type[RulesConfig]]
    words: ClassVar[Words]
    event_kinds: ClassVar[tuple[type[EventBase], ...]] = ()
    action_kinds: ClassVar[tuple[type[ActionBase], ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register_event_kinds(*cls.event_kinds)
        register_action_kinds(*cls.action_kinds)

    def __init__(self, config: C) -> None:
        self.config = config

    def faction(self, role: str) -> str:
        """The side a role plays for, from the scenario's words."""
        return self.words.roles[role]
