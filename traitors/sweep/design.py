"""Designs: which model plays which seat, balanced so that models can be compared.

A sweep's ``design:`` names the models to compare (model names, or policies that call no
model such as ``heuristic`` and ``random``). Each seed of a cell is played as a **block** of
episodes on the same seed, so the same roles are dealt to the same seat positions in every
episode of the block (roles are dealt by position from the seed) and only the models move:

- ``balance: none`` (the default): one episode per seed; seat position ``s`` is played by
  model ``s mod M`` (M models).
- ``balance: roles``: a cyclic Latin square, M episodes per seed; in the block's row ``r``
  seat position ``s`` is played by model ``(s + r) mod M``. Every model plays every seat
  position exactly once per block, hence every role equally often, and a cell's episodes
  are paired across models on the same seeds.
- ``mirror: true``: each assignment is also played with the model list reversed (with two
  models: swapped); an assignment already in the block is not played twice.
- ``shuffle_names: true``: the seats' names are drawn per seed from :data:`NAME_POOL` (the
  same names for the whole block), so no model is always "Alice".
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from traitors.game import registry
from traitors.game.seeds import derive_seed

NAME_POOL = (
    "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy",
    "Ken", "Liam", "Mona", "Nina", "Oscar", "Peggy", "Quinn", "Rupert", "Sybil", "Trent",
    "Uma", "Victor", "Wendy", "Xavier", "Yara", "Zane", "Abel", "Bianca", "Cyrus", "Delia",
    "Emil", "Fiona", "Gus", "Hana", "Igor", "Jada", "Kurt", "Lena", "Milo", "Nora",
)  # fmt: skip
"""Names ``shuffle_names`` draws from (twice the default seat names)."""

NOT_A_DESIGN_POLICY = frozenset({"llm", "human"})
"""Policies a design cannot name: ``llm`` needs a model (name the model), ``human`` a person."""


class DesignSpec(BaseModel):
    """A sweep's ``design:`` section (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    models: tuple[str, ...] = Field(min_length=2)
    """Model names (LLM seats) or names of policies that call no model."""
    balance: Literal["none", "roles"] = "none"
    """``roles``: a Latin square of M episodes per seed (every model on every seat)."""
    mirror: bool = False
    """Also play each assignment with the model list reversed."""
    shuffle_names: bool = False
    """Draw the seats' names per seed from :data:`NAME_POOL`."""

    def rows(self, seats: int) -> list[tuple[str, ...]]:
        """The block of one seed: each episode's model per seat position."""
        m = len(self.models)
        shifts = range(m) if self.balance == "roles" else range(1)
        rows = [tuple(self.models[(s + r) % m] for s in range(seats)) for r in shifts]
        if self.mirror:
            reverse = {model: self.models[m - 1 - i] for i, model in enumerate(self.models)}
            rows += [tuple(reverse[model] for model in row) for row in rows]
        return list(dict.fromkeys(rows))

    def largest_block(self) -> int:
        """The most episodes one seed's block can hold, whatever the seat count."""
        return (len(self.models) if self.balance == "roles" else 1) * (2 if self.mirror else 1)

    def names(self, count: int, seed: int) -> tuple[str, ...] | None:
        """The seats' names for a seed's block (None: keep the spec's)."""
        if not self.shuffle_names:
            return None
        return tuple(random.Random(derive_seed(seed, "design-names")).sample(NAME_POOL, count))


def check_design(design: DesignSpec) -> str | None:
    """What is wrong with the design's model list, if anything."""
    if len(set(design.models)) != len(design.models):
        return "design.models: a model is named twice"
    for model in design.models:
        if model in NOT_A_DESIGN_POLICY:
            return f"design.models: {model!r} is not a model (name the model an LLM seat uses)"
    return None


def seat_agent(model: str) -> dict[str, Any]:
    """The seat layer that has ``model`` play a seat: a policy that calls no model, or an
    LLM seat on that model."""
    if model in registry.names("policy"):
        return {"policy": model}
    return {"policy": "llm", "model": model}


def assign(raw: dict[str, Any], seats: Sequence[str], row: Sequence[str]) -> dict[str, Any]:
    """``raw`` (a spec mapping) with seat ``seats[i]`` played by ``row[i]``."""
    agents = dict(raw.get("agents") or {})
    for seat, model in zip(seats, row, strict=True):
        agents[seat] = seat_agent(model)
    return {**raw, "players": list(seats), "agents": agents}
