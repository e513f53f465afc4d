"""A scenario's own words: its factions and how prompts, views and tables name things.

The engine knows no game's vocabulary. Each scenario declares a ``Words`` (its factions,
which roles belong to which, what its channels, phases, eliminations and votes are called,
and what a belief probe asks about); agents, the spectator and the analysis (through the
manifest) speak of the game only in these words.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Faction(_Frozen):
    """One side of a game."""

    name: str
    """The faction as ``Outcome.winner`` names it."""
    member: str
    """What one member is called."""
    hidden: bool = False
    """Whether members hide their allegiance from the others: the side belief probes ask
    about and deception metrics follow."""
    allies: str = ""
    """How a member hears of the team mates it knows (``your fellow <members>``)."""


class Words(_Frozen):
    """How one scenario names its sides and its events."""

    factions: tuple[Faction, ...]
    """Every faction, the uncovering side(s) first."""
    roles: dict[str, str]
    """Role -> the faction it plays for."""
    channels: dict[str, str] = {}
    """Private channel -> how prompts name it."""
    phases: dict[str, str] = {}
    """Phase -> how prompts name it (default: the phase with spaces)."""
    eliminations: dict[str, str] = {}
    """Elimination cause -> what befell the player, as a past participle."""
    votes: dict[str, str] = {}
    """Vote purpose -> what a ballot does, after ``voted`` (``to <verb>``)."""
    suspect: str = "suspect"
    """What a belief probe gives the probability of, in ``P(<suspect>)``: a member of the
    hidden faction, in the scenario's word."""

    @model_validator(mode="after")
    def _roles_have_factions(self) -> Words:
        names = {f.name for f in self.factions}
        unknown = sorted({f for f in self.roles.values() if f not in names})
        if unknown:
            raise ValueError(f"roles name unknown factions {unknown}; factions: {sorted(names)}")
        return self

    def faction(self, role: str) -> Faction:
        """The faction of ``role``."""
        name = self.roles[role]
        return next(f for f in self.factions if f.name == name)

    def hidden_roles(self) -> frozenset[str]:
        """Roles whose players belong to a hidden faction."""
        return frozenset(role for role in self.roles if self.faction(role).hidden)

    def allies_phrase(self, role: str) -> str:
        """How ``role`` hears of its known team mates (``your allies`` if not declared)."""
        return self.faction(role).allies or "your allies"

    def channel(self, name: str) -> str:
        """How prompts name a channel."""
        return self.channels.get(name, f"the private channel {name!r}")

    def phase(self, name: str) -> str:
        """How prompts name a phase."""
        return self.phases.get(name, name.replace("_", " "))

    def elimination(self, cause: str) -> str:
        """What befell an eliminated player, as a past participle."""
        return self.eliminations.get(cause, f"eliminated ({cause})")

    def vote(self, purpose: str) -> str:
        """What a ballot of ``purpose`` does, after ``voted``."""
        return self.votes.get(purpose, f"in the {purpose.replace('_', ' ')} vote for")


NEUTRAL = Words(factions=(Faction(name="players", member="player"),), roles={}, suspect="suspect")
"""Words for a log whose scenario is not installed: nothing game-specific."""
