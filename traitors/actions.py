"""Actions an agent may take, the request that says which are legal now, and validation."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Accuse(_Frozen):
    """Publicly claim that a player is a traitor."""

    kind: Literal["accuse"] = "accuse"
    target: str
    """The accused player."""


class Defend(_Frozen):
    """Publicly vouch for a player."""

    kind: Literal["defend"] = "defend"
    target: str
    """The defended player."""


class ClaimRole(_Frozen):
    """Publicly claim a role for oneself."""

    kind: Literal["claim_role"] = "claim_role"
    role: str
    """The claimed role."""


Claim = Annotated[Accuse | Defend | ClaimRole, Field(discriminator="kind")]


class Speak(_Frozen):
    """Say something, optionally with structured claims."""

    kind: Literal["speak"] = "speak"
    text: str
    """Free text."""
    claims: tuple[Claim, ...] = ()
    """Structured claims the speech makes."""


class Vote(_Frozen):
    """Cast a ballot for a target."""

    kind: Literal["vote"] = "vote"
    target: str
    """The player voted for."""


class Belief(_Frozen):
    """Report P(traitor) for each other player."""

    kind: Literal["belief"] = "belief"
    probs: dict[str, float]
    """Player -> probability that they are a traitor."""


class Bid(_Frozen):
    """Bid for the next speaking turn."""

    kind: Literal["bid"] = "bid"
    amount: int
    """Bid size, higher means more urgent."""


class Purchase(_Frozen):
    """Buy an item with an explanation."""

    kind: Literal["purchase"] = "purchase"
    item: str
    """The catalogue item bought."""
    explanation: str = ""
    """Why."""


class Respond(_Frozen):
    """Accept or refuse an offer."""

    kind: Literal["respond"] = "respond"
    accept: bool
    """True to accept."""


class Pass(_Frozen):
    """Do nothing."""

    kind: Literal["pass"] = "pass"


Action = Annotated[
    Speak | Vote | Accuse | Defend | ClaimRole | Belief | Bid | Purchase | Respond | Pass,
    Field(discriminator="kind"),
]
ACTION_ADAPTER: TypeAdapter[Action] = TypeAdapter(Action)

TARGETED_KINDS = frozenset({"vote", "accuse", "defend"})


class ActionError(ValueError):
    """An action is not legal for its request."""


class ActionRequest(_Frozen):
    """What one actor may do now."""

    actor: str
    """Who is asked."""
    purpose: str
    """What the decision is for, e.g. ``discussion``, ``banish_vote``, ``murder_vote``."""
    prompt: str
    """The question, in words, for LLM and human agents."""
    kinds: tuple[str, ...]
    """Action kinds allowed."""
    targets: tuple[str, ...] = ()
    """Legal targets of a vote, accusation or defence."""
    claim_targets: tuple[str, ...] = ()
    """Legal targets of claims attached to speech."""
    roles: tuple[str, ...] = ()
    """Roles that may be claimed."""
    items: tuple[str, ...] = ()
    """Items that may be purchased."""
    max_bid: int = 0
    """Largest legal bid."""
    max_text_chars: int = 600
    """Longest legal text."""
    default: Action = Pass()
    """Action applied if the actor fails twice; must itself be legal."""
    error: str | None = None
    """Validation error of the previous attempt, set on the repair turn."""

    def check(self, action: Action) -> None:
        """Raise ActionError if ``action`` is not legal for this request."""
        if action.kind not in self.kinds:
            raise ActionError(
                f"action kind {action.kind!r} not allowed; allowed: {list(self.kinds)}"
            )
        match action:
            case Vote(target=t) | Accuse(target=t) | Defend(target=t):
                _require(t in self.targets, f"target {t!r} not legal; legal: {list(self.targets)}")
            case Speak(text=text, claims=claims):
                _require(len(text) <= self.max_text_chars, f"text over {self.max_text_chars} chars")
                for claim in claims:
                    self._check_claim(claim)
            case ClaimRole(role=role):
                _require(
                    role in self.roles, f"role {role!r} not claimable; roles: {list(self.roles)}"
                )
            case Belief(probs=probs):
                unknown = sorted(set(probs) - set(self.targets))
                _require(not unknown, f"beliefs about unknown players {unknown}")
                bad = sorted(p for p, v in probs.items() if not 0.0 <= v <= 1.0)
                _require(not bad, f"probabilities outside [0, 1] for {bad}")
            case Bid(amount=amount):
                _require(0 <= amount <= self.max_bid, f"bid must be 0..{self.max_bid}")
            case Purchase(item=item):
                _require(item in self.items, f"item {item!r} not in catalogue {list(self.items)}")

    def _check_claim(self, claim: Claim) -> None:
        if isinstance(claim, ClaimRole):
            _require(claim.role in self.roles, f"role {claim.role!r} not claimable")
        else:
            ok = claim.target in self.claim_targets
            _require(
                ok, f"claim target {claim.target!r} not legal; legal: {list(self.claim_targets)}"
            )

    def parse(self, data: Any) -> Action:
        """Build an action from JSON-like data and check it; raise ActionError if illegal."""
        try:
            action = ACTION_ADAPTER.validate_python(data)
        except ValidationError as exc:
            raise ActionError(_short_validation_error(exc)) from None
        self.check(action)
        return action

    def reply_kind(self) -> str:
        """The kind an LLM is asked to reply with (a vote over a pass, and so on)."""
        for kind in ("vote", "belief", "respond", "bid", "purchase", "speak"):
            if kind in self.kinds:
                return kind
        return self.kinds[0]

    def reply_schema(self, reasoning: bool = True) -> dict[str, Any]:
        """The JSON schema an LLM reply must fill; decision fields first, reasoning last."""
        kind = self.reply_kind()
        props: dict[str, Any] = {}
        if kind == "vote":
            props["vote"] = {"type": "string", "enum": list(self.targets)}
        elif kind == "speak":
            props["text"] = {"type": "string"}
            if self.claim_targets:
                options = [*self.claim_targets, NONE]
                props["accuse"] = {"type": "string", "enum": options}
                props["defend"] = {"type": "string", "enum": options}
            if self.roles:
                props["claim_role"] = {"type": "string", "enum": [*self.roles, NONE]}
        elif kind == "belief":
            # An enum of probabilities rather than min/max: constrained decoders enforce it.
            players = {p: {"type": "number", "enum": list(PROBABILITIES)} for p in self.targets}
            props["beliefs"] = {"type": "object", "properties": players, "required": list(players)}
        elif kind == "respond":
            props["accept"] = {"type": "boolean"}
        elif kind == "bid":
            props["bid"] = {"type": "integer", "minimum": 0, "maximum": self.max_bid}
        elif kind == "purchase":
            props["item"] = {"type": "string", "enum": list(self.items)}
            props["explanation"] = {"type": "string"}
        if reasoning:
            props["reasoning"] = {"type": "string"}
        return {"type": "object", "properties": props, "required": list(props)}

    def action_from_reply(self, data: Any) -> Action:
        """Turn a reply filled per ``reply_schema`` into a checked action (ActionError if not)."""
        if not isinstance(data, dict):
            raise ActionError("reply must be a JSON object")
        kind = self.reply_kind()
        fields = {"vote": "vote", "belief": "beliefs", "respond": "accept", "bid": "bid"}
        fields |= {"purchase": "item", "speak": "text"}
        if fields.get(kind, "") not in data:
            raise ActionError(f"reply is missing the field {fields.get(kind)!r}")
        action: dict[str, Any]
        if kind == "vote":
            action = {"kind": "vote", "target": data["vote"]}
        elif kind == "belief":
            action = {"kind": "belief", "probs": data["beliefs"]}
        elif kind == "respond":
            action = {"kind": "respond", "accept": data["accept"]}
        elif kind == "bid":
            action = {"kind": "bid", "amount": data["bid"]}
        elif kind == "purchase":
            action = {"kind": "purchase", "item": data["item"]}
            action["explanation"] = str(data.get("explanation", ""))
        else:
            action = {"kind": "speak", "text": data["text"], "claims": _claims_from(data)}
        return self.parse(action)


NONE = "none"
"""The enum value meaning "no claim" in LLM replies."""
PROBABILITIES = tuple(i / 20 for i in range(21))
"""The probabilities an LLM may report in a belief probe (steps of 0.05)."""


def _claims_from(data: dict[str, Any]) -> list[dict[str, str]]:
    claims = []
    for kind, key in (("accuse", "target"), ("defend", "target"), ("claim_role", "role")):
        value = data.get(kind)
        if isinstance(value, str) and value and value != NONE:
            claims.append({"kind": kind, key: value})
    return claims


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ActionError(message)


def _short_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc}: {err['msg']}" if loc else err["msg"])
    return "; ".join(parts)


def describe(action: Action) -> str:
    """Compact JSON text of an action, as written in logs."""
    return action.model_dump_json()
