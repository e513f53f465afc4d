"""The policy contract shared by scripted, LLM and human agents."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from traitors.episode.spec import AgentSpec, Persona
from traitors.game.actions import ActionBase, ActionRequest
from traitors.game.events import Event, RoleEvent
from traitors.store.calls import CallLog


@dataclass(frozen=True)
class Observation:
    """Everything one agent may know when it decides: the events it was shown, in order."""

    agent: str
    """The observing player."""
    round: int
    """Current round."""
    phase: str
    """Current phase."""
    players: tuple[str, ...]
    """All seats."""
    alive: tuple[str, ...]
    """Seats still in the game (public knowledge)."""
    events: tuple[Event, ...]
    """Every event visible to the agent so far."""

    def role(self) -> str | None:
        """The agent's own role, from the latest role event addressed to it."""
        latest = self.role_event()
        return latest.role if latest else None

    def role_event(self) -> RoleEvent | None:
        """The latest role event about the agent itself."""
        for event in reversed(self.events):
            if isinstance(event, RoleEvent) and event.player == self.agent:
                return event
        return None


@dataclass(frozen=True)
class Decision:
    """A seat's answer to its request: the action, plus what produced it. Policies return
    it, and drivers (the engine, PettingZoo, replays, forks) hand it to the core."""

    action: ActionBase | None
    """The chosen action, or None if none could be parsed."""
    error: str | None = None
    """Why no action could be produced (e.g. unparseable model output)."""
    raw: str | None = None
    """Raw model or human text, if any (recorded as the attempt when there is no action)."""
    reasoning: str | None = None
    """Private reasoning, logged as a private event."""
    call_ids: tuple[str, ...] = ()
    """Ids of the model calls behind the decision."""
    notes: tuple[Event, ...] = ()
    """Private notes beyond the reasoning, of kinds marked ``note`` (an imported player's
    perceived threat level); the core records them, re-stamped, before the act."""


class SeatTerminal(Protocol):
    """Where a person playing a seat sees the game and types answers."""

    def show(self, observation: Observation) -> None:
        """Show the seat everything it has seen so far."""

    def say(self, text: str, style: str = "") -> None:
        """Print one line (shown literally; ``style`` is a rich style)."""

    def ask(self, prompt: str) -> str:
        """Read one answer line after ``prompt`` (EOFError when the input has ended)."""


class ModelGateway(Protocol):
    """The seam between episodes and models: what a policy may ask of the model gateway.

    ``traitors.llm.Gateway`` implements it; the episode layer never imports it."""

    async def complete(self, request: Any, *, agent: str, log: CallLog) -> Any:
        """Answer one model request for ``agent``, recording the call in ``log``."""
        ...


@dataclass
class Services:
    """What the runner hands every policy of an episode."""

    gateway: ModelGateway | None = None
    """The model gateway (the runner shares one per process, for its limits); None where
    no seat calls a model."""
    calls: CallLog = field(default_factory=CallLog)
    """The episode's model calls: recorded live, or served from a recording in replay."""
    lessons: Mapping[str, str] = field(default_factory=dict)
    """Seat -> lessons carried in from earlier episodes (``memory: persist``)."""
    persist_memory: bool = False
    """Whether seats write lessons for their next episode."""
    terminal: SeatTerminal | None = None
    """Where a human seat plays (``traitors play``)."""
    directory: Path | None = None
    """The live episode's directory, where seats keep files beside the log (the captured
    activations); None in replay."""


@dataclass(frozen=True)
class SeatContext:
    """What a policy is built from: its seat, role, settings and private seed."""

    seat: str
    """The player this policy plays."""
    role: str
    """The seat's role at the start of the episode."""
    agent: AgentSpec
    """Resolved agent settings."""
    seed: int
    """The seat's private seed stream."""
    rules: Any
    """The scenario's rules object (its words, role names and options)."""
    personas: dict[str, Persona] = field(default_factory=dict)
    """Personas defined by the spec."""
    services: Services = field(default_factory=Services)
    """Shared services from the runner (model gateway, call log, lessons, ...)."""


class Policy(Protocol):
    """Anything that decides actions for a seat.

    A policy may also define ``async finish(observation) -> str | None``: called once the
    game is over, it returns lessons to carry into the seat's next episode; and
    ``reseed(seed)``: draw its random choices from a new stream from here on (called at a
    fork's fork point, so each continuation samples afresh). A policy class that sets
    ``replayable = False`` (a person) is played from its log in replays and fork prefixes.
    """

    async def decide(self, observation: Observation, request: ActionRequest) -> Decision:
        """Choose an action for ``request`` given ``observation``."""
        ...


class PolicyFactory(Protocol):
    """A registered policy class: builds one policy per seat per episode."""

    @classmethod
    def create(cls, context: SeatContext) -> Policy:
        """Build the policy for one seat."""
        ...
