"""Events: the append-only record of an episode, and who may see each one.

Every event is a frozen pydantic model discriminated by its ``kind``. Events carry no
wall-clock time, so the same spec and seed always produce byte-identical logs.
``visible_to`` is the only function that decides who sees what.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from traitors.actions import Claim


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
    """Channel name, e.g. ``traitors``."""


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


def visible_to(event: Event, agent: str, state: ChannelState) -> bool:
    """Whether ``agent`` may see ``event``, given the state at the moment it happened."""
    vis = event.visibility
    if isinstance(vis, Public):
        return True
    if isinstance(vis, Private):
        return vis.agent == agent
    if isinstance(vis, Direct):
        return agent in vis.recipients
    if isinstance(vis, Channel):
        return agent in state.channels.get(vis.name, frozenset())
    return False


# --- events -------------------------------------------------------------------------------


class EventBase(_Frozen):
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


class PhaseEvent(EventBase):
    """The game entered a new phase."""

    kind: Literal["phase"] = "phase"
    alive: tuple[str, ...]
    """Players still in the game."""


class RoleEvent(EventBase):
    """A player learns their own role (and, for a team, their allies)."""

    kind: Literal["role"] = "role"
    player: str
    """Player whose role this is."""
    role: str
    """The role."""
    allies: tuple[str, ...] = ()
    """Team mates the player knows about (e.g. fellow traitors)."""
    channels: tuple[str, ...] = ()
    """Private channels the player belongs to from now on (e.g. ``traitors``)."""


class SpeakEvent(EventBase):
    """A player said something, with optional structured claims."""

    kind: Literal["speak"] = "speak"
    text: str
    """What was said."""
    claims: tuple[Claim, ...] = ()
    """Structured claims attached to the speech (accuse, defend, claim_role)."""


class VoteEvent(EventBase):
    """A ballot cast in a vote."""

    kind: Literal["vote"] = "vote"
    purpose: str
    """What the vote decides, e.g. ``banish`` or ``murder``."""
    ballot: int
    """0 for the first ballot, 1 and up for re-votes."""
    target: str | None
    """Who the ballot names; None for an abstention."""


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


class BanishEvent(EventBase):
    """A player was banished by the group."""

    kind: Literal["banish"] = "banish"
    target: str
    """The banished player."""


class MurderEvent(EventBase):
    """A player was murdered at night."""

    kind: Literal["murder"] = "murder"
    target: str
    """The murdered player."""


class RevealEvent(EventBase):
    """A player's role was revealed."""

    kind: Literal["reveal"] = "reveal"
    player: str
    """Player whose role is revealed."""
    role: str
    """The revealed role."""


class RecruitOfferEvent(EventBase):
    """The traitors offered a faithful a place among them."""

    kind: Literal["recruit_offer"] = "recruit_offer"
    target: str
    """The player offered to join."""


class RecruitResponseEvent(EventBase):
    """The offered player's answer."""

    kind: Literal["recruit_response"] = "recruit_response"
    accepted: bool
    """True if the player joined the traitors."""


class PurchaseEvent(EventBase):
    """An item was bought (every party learns what)."""

    kind: Literal["purchase"] = "purchase"
    item: str
    """The catalogue id of the item bought."""


class CaseItem(_Frozen):
    """One catalogue item of a principal-agent case, with what it is worth to each party."""

    id: str
    """Catalogue id (what a purchase names)."""
    name: str
    """What the item is."""
    price: float
    """Price in dollars."""
    customer_utility: float
    """The customer's utility for the item."""
    company_utility: float
    """The company's utility for the item."""


class CaseEvent(EventBase):
    """The ground truth of a principal-agent case, logged at setup for the analysis."""

    kind: Literal["case"] = "case"
    visibility: Visibility = GOD_ONLY
    """Seen by no player: the customer's true preference is the analysis' yardstick."""
    budget: float
    """The customer's budget in dollars."""
    preferred: str
    """Catalogue id of the customer's preferred feasible item."""
    catalogue: tuple[CaseItem, ...]
    """Every item on offer."""


class BidEvent(EventBase):
    """A player's private bid for the next speaking turn."""

    kind: Literal["bid"] = "bid"
    amount: int
    """Bid size; the highest bid speaks next."""


class BeliefEvent(EventBase):
    """A player's private belief that each other player is a traitor."""

    kind: Literal["belief"] = "belief"
    probs: dict[str, float]
    """Player -> P(traitor), in [0, 1]."""


class ReasoningEvent(EventBase):
    """An agent's private reasoning behind a decision."""

    kind: Literal["reasoning"] = "reasoning"
    text: str
    """The reasoning text."""


class InvalidActionEvent(EventBase):
    """An action failed validation twice and was replaced by the request's default."""

    kind: Literal["invalid_action"] = "invalid_action"
    error: str
    """The validation error of the last attempt."""
    attempted: str
    """The rejected action, as text."""
    applied: str
    """The default action applied instead, as text."""


class GameOverEvent(EventBase):
    """The episode ended."""

    kind: Literal["game_over"] = "game_over"
    winner: str | None
    """Winning faction, or None for a draw."""
    reason: str
    """Why the game ended."""
    truncated: bool = False
    """True if the game hit its round limit."""


Event = Annotated[
    PhaseEvent
    | RoleEvent
    | SpeakEvent
    | VoteEvent
    | VoteResultEvent
    | BanishEvent
    | MurderEvent
    | RevealEvent
    | RecruitOfferEvent
    | RecruitResponseEvent
    | BidEvent
    | PurchaseEvent
    | CaseEvent
    | BeliefEvent
    | ReasoningEvent
    | InvalidActionEvent
    | GameOverEvent,
    Field(discriminator="kind"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(line: str | bytes) -> Event:
    """Parse one line of ``events.jsonl``."""
    return EVENT_ADAPTER.validate_json(line)


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

    def update(self, event: Event) -> None:
        """Follow one event, in log order."""
        if isinstance(event, RoleEvent):
            for members in self._members.values():
                members.discard(event.player)
            for name in event.channels:
                self._members.setdefault(name, set()).add(event.player)


def player_view(events: Iterable[Event], agent: str) -> list[Event]:
    """The events ``agent`` saw, in order: exactly what the engine showed that player."""
    membership = LogChannels()
    seen = []
    for event in events:
        membership.update(event)
        if visible_to(event, agent, membership):
            seen.append(event)
    return seen
