"""Speaking orders: who talks when in a discussion.

A fixed order is a pure function of the speakers, the round, the pass number and a seed,
so the same episode always hears the same order. Bidding needs the players' input: the
rules plan a simultaneous bid step before each turn and ``highest_bidder`` picks the
speaker (Werewolf Arena's turn-taking).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from traitors.seeds import derive_rng

SpeakingOrder = Callable[[Sequence[str], int, int, int], tuple[str, ...]]
"""(speakers in seat order, round, pass, seed) -> speaking order."""


def fixed_order(speakers: Sequence[str], round: int, turn: int, seed: int) -> tuple[str, ...]:
    """Seat order every time."""
    return tuple(speakers)


def rotating_order(speakers: Sequence[str], round: int, turn: int, seed: int) -> tuple[str, ...]:
    """Seat order, starting one seat later each round and pass."""
    if not speakers:
        return ()
    shift = (round + turn) % len(speakers)
    return tuple(speakers[shift:]) + tuple(speakers[:shift])


def random_order(speakers: Sequence[str], round: int, turn: int, seed: int) -> tuple[str, ...]:
    """A fresh seeded shuffle each round and pass."""
    order = list(speakers)
    derive_rng(seed, "order", round, turn).shuffle(order)
    return tuple(order)


SPEAKING_ORDERS: dict[str, SpeakingOrder] = {
    "fixed": fixed_order,
    "rotating": rotating_order,
    "random": random_order,
}


def highest_bidder(bids: Mapping[str, int], seed: int, *labels: object) -> str:
    """The speaker with the highest bid; ties broken by a seeded pick among the tied."""
    if not bids:
        raise ValueError("no bids")
    best = max(bids.values())
    tied = sorted(p for p, amount in bids.items() if amount == best)
    return tied[0] if len(tied) == 1 else derive_rng(seed, "bid", *labels).choice(tied)
