"""Werewolf Arena's turn-taking: a private bid for each speaking turn."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from traitors.game.actions import (
    ActionBase,
    ActionRequest,
    reply_field,
    require,
)
from traitors.game.events import (
    EventBase,
)
from traitors.game.seeds import derive_rng
from traitors.game.words import Words


def highest_bidder(
    bids: Mapping[str, int], seed: int, *labels: object, drawn: str | None = None
) -> str:
    """The speaker with the highest bid (Werewolf Arena's turn-taking); ties broken by a
    seeded pick among the tied (``drawn``, the recorded pick, if it is one of them)."""
    if not bids:
        raise ValueError("no bids")
    best = max(bids.values())
    tied = sorted(p for p, amount in bids.items() if amount == best)
    if len(tied) == 1:
        return tied[0]
    return drawn if drawn in tied else derive_rng(seed, "bid", *labels).choice(tied)


class Bid(ActionBase):
    """Bid for the next turn to speak."""

    kind: Literal["bid"] = "bid"
    amount: int
    """Bid size: 0 observe ... the largest, addressed directly and must respond."""

    def check(self, request: ActionRequest) -> None:
        require(0 <= self.amount <= request.max_amount, f"bid must be 0..{request.max_amount}")

    @classmethod
    def reply_fields(cls, request: ActionRequest) -> dict[str, Any]:
        return {"bid": {"type": "integer", "minimum": 0, "maximum": request.max_amount}}

    @classmethod
    def from_reply(cls, data: dict[str, Any], request: ActionRequest) -> dict[str, Any]:
        return {"kind": "bid", "amount": reply_field(data, "bid")}

    @classmethod
    def sample(cls, request: ActionRequest, rng: random.Random) -> Bid:
        return Bid(amount=rng.randint(0, request.max_amount))

    @classmethod
    def catalogue(cls, rules: Any, seats: Sequence[str]) -> list[tuple[str, ActionBase]]:
        return [(f"bid {b}", Bid(amount=b)) for b in range(rules.config.max_bid + 1)]


class BidEvent(EventBase):
    """A player's private bid for the next speaking turn."""

    kind: Literal["bid"] = "bid"
    amount: int
    """Bid size; the highest bid speaks next."""

    def prompt_text(self, viewer: str, words: Words) -> None:
        return None  # the bid's winner shows in who speaks next

    def line_text(self, words: Words) -> str:
        return f"{self.actor} bids {self.amount}"
