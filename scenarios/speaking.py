"""Speaking orders: who talks when in The Traitors' round table.

A fixed order is a pure function of the speakers, the round, the pass number and a seed,
so the same episode always hears the same order. Orders that need the players' input are
the scenario's own steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from traitors.game.seeds import derive_rng

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
