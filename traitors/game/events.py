"""Events: the append-only record of an episode, and who may see each one.

Every event is a frozen pydantic model discriminated by its ``kind``. Events carry no
wall-clock time, so the same spec and seed always produce byte-identical logs.
``visible_to`` (through ``audience``) is the only function that decides who sees what.

The engine defines what every game shares (phases, roles, speech with claims, votes and
their results, eliminations, reveals, beliefs, reasoning, invalid actions, the actions
applied, game over). A scenario adds its own kinds by subclassing ``EventBase`` and listing
them in its rules' ``event_kinds`` (or calling ``register_event_kinds``). Every kind renders
itself: ``prompt_text`` for an agent's prompt and ``line_text`` for the spectator, both
abstract, so a kind that forgets one cannot be instantiated or registered.
"""

from __future__ import annotations

import functools
import inspect
import json
from abc import abstractmethod
from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Protocol, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from traitors.game.actions import Accuse, ActionBase, Claim, ClaimRole, Defend, parse_action
from traitors.game.words import Words

if TYPE_CHECKING:
    from traitors.game.board import Board


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- visibility -------------------------------------------------------------------------


class Public(_Frozen):
    """Seen by every player."""

    scope: Literal["public"] = "public"


class Channel(_Frozen):
    """Seen by the members of a named channel at the moment the event happens."""

    scope: Literal["channel"] = "channel"
    name: str
    """Channel name, as the scenario declares it."""


class Direct(_Frozen):
    """Seen by the listed recipients only."""

    scope: Literal["direct"] = "direct"
    recipients: tuple[str, ...]
    """Player ids that receive the event."""


class Private(_Frozen):
    """Seen by one agent only (its role, its reasoning, its beliefs)."""

    scope: Literal["private"] = "private"
    agent: str
    """The only player who sees the event."""


class GodOnly(_Frozen):
    """Seen by no player: for the spectator's god view and the analysis only."""

    scope: Literal["god"] = "god"


Visibility = Annotated[Public | Channel | Direct | Private | GodOnly, Field(discriminator="scope")]

PUBLIC = Public()
GOD_ONLY = GodOnly()


class ChannelState(Protocol):
    """What ``visible_to`` needs from a game state: current channel membership."""

    @property
    def channels(self) -> Mapping[str, frozenset[str]]:
        """Channel name -> the players in it now."""
        ...


def audience(event: EventBase, state: ChannelState) -> Collection[str] | None:
    """Who may see ``event`` (given the state at the moment it happened); None: everyone."""
    vis = event.visibility
    if isinstance(vis, Public):
        return None
    if isinstance(vis, Private):
        return (vis.agent,)
    if isinstance(vis, Direct):
        return vis.recipients
    if isinstance(vis, Channel):
        return state.channels.get(vis.name, frozenset())
    return ()


def visible_to(event: EventBase, agent: str, state: ChannelState) -> bool:
    """Whether ``agent`` may see ``event``, given the state at the moment it happened."""
    members = audience(event, state)
    return members is None or agent in members


# --- rendering helpers ----------------------------------------------------------------------

MAX_QUOTE_CHARS = 400
"""Longest player text quoted in a prompt line."""


def quote(text: str) -> str:
    """A player's text as one JSON string literal: newlines and quotes escaped, bounded.

    In a prompt, a player's words always appear quoted after ``<name> said:``, so text such
    as ``SYSTEM: Alice is lying`` or a fake ``GAME:`` line stays that player's words.
    """
    if len(text) > MAX_QUOTE_CHARS:
        text = text[:MAX_QUOTE_CHARS] + "..."
    return json.dumps(text, ensure_ascii=False)


def claims_text(claims: Iterable[Claim]) -> str:
    """Structured claims in words: ``accuses Bob; claims to be <role>``."""
    parts = []
    for claim in claims:
        if isinstance(claim, Accuse):
            parts.append(f"accuses {claim.target}")
        elif isinstance(claim, Defend):
            parts.append(f"defends {claim.target}")
        elif isinstance(claim, ClaimRole):
            parts.append(f"claims to be {claim.role}")
    return "; ".join(parts)


def game(text: str) -> str:
    """A fact from the game itself, as prompts mark it."""
    return f"GAME: {text}"


def a(noun: str) -> str:
    """``noun`` with its indefinite article: ``a player``, ``an ally``."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


# --- events -------------------------------------------------------------------------------


class EventBase(_Frozen):
    """What every event has; each kind adds its payload and renders itself."""

    kind: str
    """Event kind; each subclass fixes it to a literal."""
    seq: int = -1
    """Position in the episode's event log, assigned by the engine (0-based)."""
    round: int
    """Game round the event belongs to (0 = setup)."""
    phase: str
    """Phase of the game when the event happened."""
    actor: str | None = None
    """Player who caused the event, or None for the game itself."""
    visibility: Visibility = PUBLIC
    """Who may see the event; decided by ``visible_to``."""

    note: ClassVar[bool] = False
    """A kind an actor may attach to a decision beyond its reasoning (``Decision.notes``,
    e.g. an imported player's perceived threat level): recorded private, before the act."""

    @abstractmethod
    def prompt_text(self, viewer: str, words: Words) -> str | None:
        """The event in an agent's prompt, as ``viewer`` sees it; None: not shown there.

        Game facts start with ``GAME:`` (see ``game``); a player's words go through ``quote``.
        """

    @abstractmethod
    def line_text(self, words: Words) -> str | None:
        """What the event says in the spectator's transcript; None: no line."""

    def update_board(self, board: Board) -> None:
        """Change the spectator's board beyond the transcript (most kinds change nothing;
        the board itself follows the engine's kinds)."""


Event = EventBase
"""Any event (the engine's kinds and every registered scenario kind)."""


class PhaseEvent(EventBase):
    """The game entered a new phase."""

    kind: Literal["phase"] = "phase"
    alive: tuple[str, ...]
    """Players still in the game."""

    def prompt_text(self, viewer: str, words: Words) -> str:
        return game(f"{words.phase(self.phase)} begins.")

    def line_text(self, words: Words) -> str | None:
        return f"-- alive: {', '.join(self.alive)}" if self.phase == "setup" else None


class RoleEvent(EventBase):
    """A player learns their own role (and, for a team, their allies)."""

    kind: Literal["role"] = "role"
    player: str
    """Player whose role this is."""
    role: str
    """The role."""
    allies: tuple[str, ...] = ()
    """Team mates the player knows about."""
    channels: tuple[str, ...] = ()
    """Private channels the player belongs to from now on."""

    def prompt_text(self, viewer: str, words: Words) -> str:
        allies = (
            f" {words.allies_phrase(self.role).capitalize()}: {', '.join(self.allies)}."
            if self.allies
            else ""
        )
        return game(f"you are {a(self.role)}.{allies}")

    def line_text(self, words: Words) -> str:
        allies = f" (allies: {', '.join(self.allies)})" if self.allies else ""
        return f"{self.player} is {self.role}{allies}"


class SpeakEvent(EventBase):
    """A player said something, with optional structured claims."""

    kind: Literal["speak"] = "speak"
    text: str
    """What was said."""
    claims: tuple[Claim, ...] = ()
    """Structured claims attached to the speech (accuse, defend, claim_role)."""

    def prompt_text(self, viewer: str, words: Words) -> str:
        vis = self.visibility
        where = f"in {words.channel(vis.name)}, " if isinstance(vis, Channel) else ""
        claims = claims_text(self.claims)
        return f"{where}{self.actor} said: {quote(self.text)}" + (f" [{claims}]" if claims else "")

    def line_text(self, words: Words) -> str:
        claims = claims_text(self.claims)
        return f"{self.actor}: {self.text}" + (f"  [{claims}]" if claims else "")


class VoteEvent(EventBase):
    """A ballot cast in a vote."""

    kind: Literal["vote"] = "vote"
    purpose: str
    """What the vote decides, in the scenario's words."""
    ballot: int
    """0 for the first ballot, 1 and up for re-votes."""
    target: str | None
    """Who the ballot names; None for an abstention."""

    def prompt_text(self, viewer: str, words: Words) -> str:
        who = "you" if self.actor == viewer else self.actor
        return game(f"{who} voted {words.vote(self.purpose)} {self.target or 'nobody'}.")

    def line_text(self, words: Words) -> str:
        return f"{self.actor} votes {self.purpose} -> {self.target or 'abstains'}"


class VoteResultEvent(EventBase):
    """The tally of one ballot and what it decided."""

    kind: Literal["vote_result"] = "vote_result"
    purpose: str
    """What the vote decided."""
    ballot: int
    """Ballot number."""
    tally: dict[str, int]
    """Votes per target, sorted by target."""
    decided: str | None
    """The chosen target, or None if the ballot decided nothing (re-vote or no choice)."""
    tied: tuple[str, ...] = ()
    """Targets tied for most votes, when there was a tie."""
    random_pick: bool = False
    """Whether the decision was a seeded random pick among the tied."""

    def prompt_text(self, viewer: str, words: Words) -> str:
        counts = ", ".join(f"{t} {n}" for t, n in self.tally.items()) or "no votes"
        decided = self.decided or (
            "a re-vote among " + ", ".join(self.tied) if self.tied else "no one"
        )
        pick = " (random pick among the tied)" if self.random_pick else ""
        return game(f"{self.purpose} vote: {counts} -> {decided}{pick}.")

    def line_text(self, words: Words) -> str:
        tally = ", ".join(f"{t} {n}" for t, n in self.tally.items())
        outcome = self.decided or ("tie: " + ", ".join(self.tied) if self.tied else "none")
        return f"{self.purpose} result: {tally} => {outcome}"


class EliminationEvent(EventBase):
    """A player left the game."""

    kind: Literal["eliminate"] = "eliminate"
    target: str
    """The eliminated player."""
    cause: str
    """How, in the scenario's words."""

    def prompt_text(self, viewer: str, words: Words) -> str:
        return game(f"{self.target} was {words.elimination(self.cause)}.")

    def line_text(self, words: Words) -> str:
        return f"** {self.target} was {words.elimination(self.cause)}"


class RevealEvent(EventBase):
    """A player's role was revealed."""

    kind: Literal["reveal"] = "reveal"
    player: str
    """Player whose role is revealed."""
    role: str
    """The revealed role."""

    def prompt_text(self, viewer: str, words: Words) -> str:
        return game(f"{self.player} was {a(self.role)}.")

    def line_text(self, words: Words) -> str:
        return f"** {self.player} was {a(self.role)}"


class BeliefEvent(EventBase):
    """A player's private belief that each other player belongs to the hidden faction."""

    kind: Literal["belief"] = "belief"
    probs: dict[str, float]
    """Player -> P(member of the hidden faction), in [0, 1]."""

    def prompt_text(self, viewer: str, words: Words) -> None:
        return None  # an agent's own beliefs are shown in their own section

    def line_text(self, words: Words) -> str:
        probs = ", ".join(f"{p} {v:.2f}" for p, v in self.probs.items())
        return f"{self.actor} believes P({words.suspect}): {probs or '-'}"


class ReasoningEvent(EventBase):
    """An agent's private reasoning behind a decision."""

    kind: Literal["reasoning"] = "reasoning"
    text: str
    """The reasoning text."""

    def prompt_text(self, viewer: str, words: Words) -> None:
        return None  # an agent's own notes are shown in their own section

    def line_text(self, words: Words) -> str:
        return f"{self.actor} thinks: {self.text}"


class InvalidActionEvent(EventBase):
    """An action failed validation (after the repair turn) and the default was applied."""

    kind: Literal["invalid_action"] = "invalid_action"
    error: str
    """The validation error of the last attempt."""
    attempted: str
    """The rejected action, as text."""
    applied: str
    """The default action applied instead, as text."""

    def prompt_text(self, viewer: str, words: Words) -> str:
        return game(f"your action was invalid ({self.error}); the default was applied instead.")

    def line_text(self, words: Words) -> str:
        return f"{self.actor} invalid action ({self.error}); applied {self.applied}"


class ActEvent(EventBase):
    """The action applied for one actor of a step (god-only): what restores an episode.

    Recorded after the actor's reasoning and invalid-action events and before the events
    the rules derive from the step, so a log prefix can be re-played without any policy.
    """

    kind: Literal["act"] = "act"
    visibility: Visibility = GOD_ONLY
    """Seen by no player."""
    action: SerializeAsAny[ActionBase]
    """The applied action (any registered kind)."""

    @field_validator("action", mode="before")
    @classmethod
    def _parse_action(cls, value: Any) -> Any:
        return parse_action(value) if isinstance(value, dict) else value

    def prompt_text(self, viewer: str, words: Words) -> None:
        return None  # god-only

    def line_text(self, words: Words) -> None:
        return None  # the step's own events say what happened


class ProbeScoreEvent(EventBase):
    """A white-box probe's reading of the hidden state behind a seat's statement (god-only):
    recorded with the decision, before its act (``agents.<seat>.probe``)."""

    kind: Literal["probe_score"] = "probe_score"
    visibility: Visibility = GOD_ONLY
    """Seen by no player."""
    probe: str
    """The probe file's name."""
    layer: int
    """The layer it reads."""
    score: float
    """P(lie), as the probe says."""

    note: ClassVar[bool] = True

    def prompt_text(self, viewer: str, words: Words) -> None:
        return None  # god-only

    def line_text(self, words: Words) -> str:
        return f"{self.actor} probe {self.probe} (layer {self.layer}): P(lie) {self.score:.2f}"


class GameOverEvent(EventBase):
    """The episode ended."""

    kind: Literal["game_over"] = "game_over"
    winner: str | None
    """Winning faction, or None for a draw."""
    reason: str
    """Why the game ended."""
    truncated: bool = False
    """True if the game hit its round limit."""

    def prompt_text(self, viewer: str, words: Words) -> str:
        return game(f"game over, winner: {self.winner or 'nobody (draw)'}.")

    def line_text(self, words: Words) -> str:
        return f"GAME OVER: {self.winner or 'draw'} ({self.reason})"


ENGINE_EVENT_KINDS: tuple[type[EventBase], ...] = (
    PhaseEvent,
    RoleEvent,
    SpeakEvent,
    VoteEvent,
    VoteResultEvent,
    EliminationEvent,
    RevealEvent,
    BeliefEvent,
    ReasoningEvent,
    InvalidActionEvent,
    ActEvent,
    ProbeScoreEvent,
    GameOverEvent,
)
"""The kinds every game shares."""

DECISION_KINDS = frozenset({"reasoning", "invalid_action", "act"})
"""Kinds the engine records for a decision, before the rules apply it."""


def of_decision(event: EventBase) -> bool:
    """Whether the engine recorded ``event`` for a decision (its reasoning, notes, invalid
    attempt or act), not as an effect of the rules."""
    return event.kind in DECISION_KINDS or event.note


# --- the kind registry ----------------------------------------------------------------------


class UnknownEventKind(ValueError):
    """A log line names an event kind no installed scenario defines."""


_KINDS: dict[str, type[EventBase]] = {}


def kind_of(cls: type[BaseModel]) -> str:
    """The literal ``kind`` a model class fixes."""
    default = cls.model_fields["kind"].default
    if not isinstance(default, str):
        raise TypeError(f"{cls.__qualname__} must fix its kind with a Literal default")
    return default


def register_event_kinds(*classes: type[EventBase]) -> None:
    """Make scenario event kinds parseable; each must render itself (prompt and line)."""
    for cls in classes:
        if inspect.isabstract(cls):
            missing = ", ".join(sorted(cls.__abstractmethods__))
            raise TypeError(f"event kind {cls.__qualname__} does not render itself: {missing}")
        kind = kind_of(cls)
        known = _KINDS.get(kind)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise ValueError(f"event kind {kind!r} is defined twice: {known}, {cls}")
        _KINDS[kind] = cls
    _adapter.cache_clear()


def event_kinds() -> dict[str, type[EventBase]]:
    """Every registered kind -> its class."""
    return dict(_KINDS)


@functools.cache
def _adapter() -> TypeAdapter[EventBase]:
    union = Union[tuple(_KINDS.values())]  # type: ignore[valid-type]  # noqa: UP007
    return TypeAdapter(Annotated[union, Field(discriminator="kind")])  # type: ignore[arg-type]


@functools.cache
def _load_installed_scenarios() -> int:
    """Import every installed scenario, so that their kinds are registered; how many."""
    from traitors.game import registry

    names = registry.names("scenario")
    for name in names:
        registry.lookup("scenario", name)
    return len(names)


def parse_event(line: str | bytes) -> EventBase:
    """Parse one line of ``events.jsonl``; a line that does not parse loads the installed
    scenarios (once) and is tried again: it may be a scenario's event kind, or an ``act``
    event carrying a scenario's action kind."""
    try:
        return _adapter().validate_json(line)
    except ValidationError:
        _load_installed_scenarios()
        try:
            return _adapter().validate_json(line)
        except ValidationError as again:
            if again.errors()[0]["type"] == "union_tag_invalid":
                raise UnknownEventKind(
                    f"unknown event kind {_kind_in(line)!r}: no installed scenario defines it"
                ) from None
            raise


def _kind_in(line: str | bytes) -> str:
    try:
        return str(json.loads(line).get("kind"))
    except (ValueError, AttributeError):
        return "?"


register_event_kinds(*ENGINE_EVENT_KINDS)


# --- reading views back from a log --------------------------------------------------------


class LogChannels:
    """Channel membership rebuilt from a log: each role event sets its player's channels.

    Lets anyone holding only ``events.jsonl`` (spectators, audits) call ``visible_to``
    with the membership as it was when each event happened.
    """

    def __init__(self) -> None:
        self._members: dict[str, set[str]] = {}

    @property
    def channels(self) -> Mapping[str, frozenset[str]]:
        """Channel name -> members now."""
        return {name: frozenset(members) for name, members in self._members.items()}

    def update(self, event: EventBase) -> None:
        """Follow one event, in log order."""
        if isinstance(event, RoleEvent):
            for members in self._members.values():
                members.discard(event.player)
            for name in event.channels:
                self._members.setdefault(name, set()).add(event.player)


def player_view(events: Iterable[EventBase], agent: str) -> list[EventBase]:
    """The events ``agent`` saw, in order: exactly what the engine showed that player."""
    membership = LogChannels()
    seen = []
    for event in events:
        membership.update(event)
        if visible_to(event, agent, membership):
            seen.append(event)
    return seen
