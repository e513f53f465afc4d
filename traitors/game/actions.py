"""Actions an agent may take, the request that says which are legal now, and validation.

The engine defines the actions every game shares (speech with claims, votes, claims,
beliefs, answers to an offer, passing). A scenario adds its own by subclassing
``ActionBase`` and listing them in its rules' ``action_kinds`` (or calling
``register_action_kinds``). Each kind checks itself against a request and says which JSON
fields an LLM fills to choose it, so requests, prompts, replies and validation work for
every kind alike.
"""

from __future__ import annotations

import functools
import inspect
import random
from abc import abstractmethod
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ActionError(ValueError):
    """An action is not legal for its request."""


class ActionBase(_Frozen):
    """What every action has: its kind, how it is checked, and how an LLM chooses it."""

    kind: str
    """Action kind; each subclass fixes it to a literal."""

    def check(self, request: ActionRequest) -> None:
        """Raise ActionError if this action breaks ``request`` (its kind is allowed)."""

    @classmethod
    @abstractmethod
    def reply_fields(cls, request: ActionRequest) -> dict[str, Any]:
        """JSON-schema properties an LLM fills to choose this kind (decision fields only)."""

    @classmethod
    @abstractmethod
    def from_reply(cls, data: dict[str, Any], request: ActionRequest) -> dict[str, Any]:
        """The action's data from a reply filled per ``reply_fields``; ActionError if not."""

    @classmethod
    def sample(cls, request: ActionRequest, rng: random.Random) -> ActionBase | None:
        """A random legal action of this kind for ``request`` (the ``random`` policy of a
        scenario's own kind); None: the request's default."""
        return None

    @classmethod
    def catalogue(cls, rules: Any, seats: Sequence[str]) -> list[tuple[str, ActionBase]]:
        """Labelled actions of this kind for the PettingZoo adapters' fixed discrete action
        space (a scenario's own kind; the engine lists its own kinds itself)."""
        return []


Action = ActionBase
"""Any action (the engine's kinds and every registered scenario kind)."""


class Accuse(ActionBase):
    """Publicly claim that a player belongs to the hidden side."""

    kind: Literal["accuse"] = "accuse"
    target: str
    """The accused player."""

    def check(self, request: ActionRequest) -> None:
        _require_target(self.target, request.targets)

    @classmethod
    def reply_fields(cls, request: ActionRequest) -> dict[str, Any]:
        return {"accuse": {"type": "string", "enum": list(request.targets)}}

    @classmethod
    def from_reply(cls, data: dict[str, Any], request: ActionRequest) -> dict[str, Any]:
        return {"kind": "accuse", "target": reply_field(data, "accuse")}


class Defend(ActionBase):
    """Publicly vouch for a player."""

    kind: Literal["defend"] = "defend"
    target: str
    """The defended player."""

    def check(self, request: ActionRequest) -> None:
        _require_target(self.target, request.targets)

    @classmethod
    def reply_fields(cls, request: ActionRequest) -> dict[str, Any]:
        return {"defend": {"type": "string", "enum": list(request.targets)}}

    @classmethod
    def from_reply(cls, data: dict[str, Any], request: ActionRequest) -> dict[str, Any]:
        return {"kind": "defend", "target": reply_field(data, "defend")}


class ClaimRole(ActionBase):
    """Publicly claim a role for oneself."""

    kind: Literal["claim_role"] = "claim_role"
    role: str
    """The claimed role."""

    def check(self, request: ActionRequest) -> None:
        require(
            self.role in request.roles,
            f"role {self.role!r} not claimable; roles: {list(request.roles)}",
        )

    @classmethod
    def reply_fields(cls, request: ActionRequest) -> dict[str, Any]:
        return {"claim_role": {"type": "string", "enum": list(request.roles)}}

    @classmethod
    def from_reply(cls, data: dict[str, Any], request: ActionRequest) -> dict[str, Any]:
        return {"kind": "claim_role", "role": reply_field(data, "claim_role")}


Claim = Annotated[Accuse | Defend | ClaimRole, Field(discriminator="kind")]


class Speak(ActionBase):
    """Say something, optionally with structured claims."""

    kind: Literal["speak"] = "speak"
    text: str
    """Free text."""
    claims: tuple[Claim, ...] = ()
    """Structured claims the speech makes."""

    def check(self, request: ActionRequest) -> None:
        limit = request.max_text_chars
        require(len(self.text) <= limit, f"text over {limit} chars")
        for claim in self.claims:
            if isinstance(claim, ClaimRole):
                require(claim.role in request.roles, f"role {claim.role!r} not claimable")
            else:
                legal = list(request.claim_targets)
                require(
                    claim.target in legal,
                    f"claim target {claim.target!r} not legal; legal: {legal}",
                )

    @classmethod
    def reply_fields(cls, request: ActionRequest) -> dict[str, Any]:
        props: dict[str, Any] = {"text": {"type": "string"}}
        if request.claim_targets:
            options = [*request.claim_targets, NONE]
            props["accuse"] = {"type": "string", "enum": options}
            props["defend"] = {"type": "string", "enum": options}
        if request.roles:
            props["claim_role"] = {"type": "string", "enum": [*request.roles, NONE]}
        return props

    @classmethod
    def from_reply(cls, data: dict[str, Any], request: ActionRequest) -> dict[str, Any]:
        claims = []
        for kind, key in (("accuse", "target"), ("defend", "target"), ("claim_role", "role")):
            value = data.get(kind)
            if isinstance(value, str) and value and value != NONE:
                claims.append({"kind": kind, key: value})
        return {"kind": "speak", "text": reply_field(data, "text"), "claims": claims}


class Vote(ActionBase):
    """Cast a ballot for a target."""

    kind: Literal["vote"] = "vote"
    target: str
    """The player voted for."""

    def check(self, request: ActionRequest) -> None:
        _require_target(self.target, request.targets)

    @classmethod
    def reply_fields(cls, request: ActionRequest) -> dict[str, Any]:
        return {"vote": {"type": "string", "enum": list(request.targets)}}

    @classmethod
    def from_reply(cls, data: dict[str, Any], request: ActionRequest) -> dict[str, Any]:
        return {"kind": "vote", "target": reply_field(data, "vote")}


class Belief(ActionBase):
    """Report, for each other player, the probability that they belong to the hidden side."""

    kind: Literal["belief"] = "belief"
    probs: dict[str, float]
    """Player -> probability."""

    def check(self, request: ActionRequest) -> None:
        unknown = sorted(set(self.probs) - set(request.targets))
        require(not unknown, f"beliefs about unknown players {unknown}")
        bad = sorted(p for p, v in self.probs.items() if not 0.0 <= v <= 1.0)
        require(not bad, f"probabilities outside [0, 1] for {bad}")

    @classmethod
    def reply_fields(cls, request: ActionRequest) -> dict[str, Any]:
        # An enum of probabilities rather than min/max: constrained decoders enforce it.
        players = {p: {"type": "number", "enum": list(PROBABILITIES)} for p in request.targets}
        return {"beliefs": {"type": "object", "properties": players, "required": list(players)}}

    @classmethod
    def from_reply(cls, data: dict[str, Any], request: ActionRequest) -> dict[str, Any]:
        return {"kind": "belief", "probs": reply_field(data, "beliefs")}


class Respond(ActionBase):
    """Accept or refuse what was put to the actor."""

    kind: Literal["respond"] = "respond"
    accept: bool
    """True to accept."""

    @classmethod
    def reply_fields(cls, request: ActionRequest) -> dict[str, Any]:
        return {"accept": {"type": "boolean"}}

    @classmethod
    def from_reply(cls, data: dict[str, Any], request: ActionRequest) -> dict[str, Any]:
        return {"kind": "respond", "accept": reply_field(data, "accept")}


class Pass(ActionBase):
    """Do nothing."""

    kind: Literal["pass"] = "pass"

    @classmethod
    def reply_fields(cls, request: ActionRequest) -> dict[str, Any]:
        return {}

    @classmethod
    def from_reply(cls, data: dict[str, Any], request: ActionRequest) -> dict[str, Any]:
        return {"kind": "pass"}


ENGINE_ACTION_KINDS: tuple[type[ActionBase], ...] = (
    Speak,
    Vote,
    Accuse,
    Defend,
    ClaimRole,
    Belief,
    Respond,
    Pass,
)
"""The actions every game shares."""

NONE = "none"
"""The enum value meaning "no claim" in LLM replies."""
PROBABILITIES = tuple(i / 20 for i in range(21))
"""The probabilities an LLM may report in a belief probe (steps of 0.05)."""


# --- the kind registry --------------------------------------------------------------------

_KINDS: dict[str, type[ActionBase]] = {}


def register_action_kinds(*classes: type[ActionBase]) -> None:
    """Make scenario action kinds known (parsing, replies, validation)."""
    for cls in classes:
        if inspect.isabstract(cls):
            missing = ", ".join(sorted(cls.__abstractmethods__))
            raise TypeError(f"action kind {cls.__qualname__} is incomplete: {missing}")
        default = cls.model_fields["kind"].default
        if not isinstance(default, str):
            raise TypeError(f"{cls.__qualname__} must fix its kind with a Literal default")
        known = _KINDS.get(default)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise ValueError(f"action kind {default!r} is defined twice: {known}, {cls}")
        _KINDS[default] = cls
    _adapter.cache_clear()


def action_class(kind: str) -> type[ActionBase]:
    """The class of a registered action kind."""
    try:
        return _KINDS[kind]
    except KeyError:
        raise ActionError(f"unknown action kind {kind!r}") from None


@functools.cache
def _adapter() -> TypeAdapter[ActionBase]:
    union = Union[tuple(_KINDS.values())]  # type: ignore[valid-type]  # noqa: UP007
    return TypeAdapter(Annotated[union, Field(discriminator="kind")])  # type: ignore[arg-type]


def parse_action(data: Any) -> ActionBase:
    """An action from JSON-like data (any registered kind); ActionError if malformed."""
    try:
        return _adapter().validate_python(data)
    except ValidationError as exc:
        raise ActionError(_short_validation_error(exc)) from None


register_action_kinds(*ENGINE_ACTION_KINDS)


# --- requests ---------------------------------------------------------------------------


class ActionRequest(_Frozen):
    """What one actor may do now."""

    actor: str
    """Who is asked."""
    purpose: str
    """What the decision is for, in the scenario's words (``discussion``, ``exile_vote``...)."""
    prompt: str
    """The question, in words, for LLM and human agents."""
    kinds: tuple[str, ...]
    """Action kinds allowed."""
    targets: tuple[str, ...] = ()
    """Legal targets of a vote, accusation, defence or pick of players."""
    claim_targets: tuple[str, ...] = ()
    """Legal targets of claims attached to speech."""
    roles: tuple[str, ...] = ()
    """Roles that may be claimed."""
    choices: tuple[str, ...] = ()
    """Named options other than players (catalogue items, cards) a scenario kind picks from."""
    max_amount: int = 0
    """Largest legal number for a kind that names one (a bid)."""
    picks: int = 1
    """How many distinct targets a kind that names several must pick (a team)."""
    max_text_chars: int = 600
    """Longest legal text."""
    default: ActionBase = Pass()
    """Action applied if the actor fails (after the repair turn); must itself be legal."""
    error: str | None = None
    """Validation error of the previous attempt, set on the repair turn."""

    def check(self, action: ActionBase) -> None:
        """Raise ActionError if ``action`` is not legal for this request."""
        if action.kind not in self.kinds:
            raise ActionError(
                f"action kind {action.kind!r} not allowed; allowed: {list(self.kinds)}"
            )
        action.check(self)

    def parse(self, data: Any) -> ActionBase:
        """Build an action from JSON-like data and check it; raise ActionError if illegal."""
        action = parse_action(data)
        self.check(action)
        return action

    def reply_kind(self) -> str:
        """The kind an LLM is asked to reply with: the first allowed kind that is not pass."""
        return next((k for k in self.kinds if k != "pass"), self.kinds[0])

    def reply_schema(self, reasoning: bool = True) -> dict[str, Any]:
        """The JSON schema an LLM reply must fill; decision fields first, reasoning last."""
        props = dict(action_class(self.reply_kind()).reply_fields(self))
        if reasoning:
            props["reasoning"] = {"type": "string"}
        return {"type": "object", "properties": props, "required": list(props)}

    def action_from_reply(self, data: Any) -> ActionBase:
        """Turn a reply filled per ``reply_schema`` into a checked action (ActionError if not)."""
        if not isinstance(data, dict):
            raise ActionError("reply must be a JSON object")
        return self.parse(action_class(self.reply_kind()).from_reply(data, self))


def reply_field(data: dict[str, Any], name: str) -> Any:
    """A reply's field; ActionError naming it if it is missing."""
    if name not in data:
        raise ActionError(f"reply is missing the field {name!r}")
    return data[name]


def require(ok: bool, message: str) -> None:
    """Raise ActionError(message) unless ``ok``."""
    if not ok:
        raise ActionError(message)


def _require_target(target: str, legal: Sequence[str]) -> None:
    require(target in legal, f"target {target!r} not legal; legal: {list(legal)}")


def _short_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc}: {err['msg']}" if loc else err["msg"])
    return "; ".join(parts)


def describe(action: ActionBase) -> str:
    """Compact JSON text of an action, as written in logs."""
    return action.model_dump_json()
