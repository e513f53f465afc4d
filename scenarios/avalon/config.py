"""Avalon's rule options."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from scenarios.avalon.table import QUESTS, SIDES
from traitors.game.rules import RulesConfig


class AvalonConfig(RulesConfig):
    """Rule options of Avalon; defaults follow the standard rules."""

    n_players: int = Field(7, ge=5, le=10)
    """Players at the table (5-10); the table size fixes good/evil and the team sizes."""
    percival: bool = True
    """Whether a good player is Percival, who sees Merlin (and Morgana, as a possible Merlin)."""
    morgana: bool = True
    """Whether an evil player is Morgana, who appears to Percival as Merlin."""
    mordred: bool = False
    """Whether an evil player is Mordred, whom Merlin does not see."""
    oberon: bool = False
    """Whether an evil player is Oberon, who does not know the evil side nor it him."""
    discussion: bool = True
    """Whether every player speaks once about each proposed team before the vote."""
    belief_probe: bool = True
    """Whether every player privately reports P(evil) for the others before each team vote."""
    merlin_probe: Literal["never", "assassination", "each_round"] = "each_round"
    """When evil players privately report P(Merlin) for the others: never, only before the
    assassination, or after every quest (and before the assassination)."""
    reveal_at_end: bool = True
    """Whether every role is revealed to all when the game ends."""
    max_rounds: int = Field(QUESTS, ge=1, le=QUESTS)
    """Quests after which an undecided game ends as a draw (5: the game always finishes)."""
    max_speech_chars: int = Field(600, ge=1)
    """Longest legal speech."""

    @model_validator(mode="after")
    def _special_roles_fit(self) -> AvalonConfig:
        evil = SIDES[self.n_players][1]
        special = 1 + self.morgana + self.mordred + self.oberon
        if special > evil:
            raise ValueError(
                f"the assassin plus morgana/mordred/oberon make {special} evil roles, but "
                f"{self.n_players} players have only {evil} evil players"
            )
        return self

    def good_count(self) -> int:
        """Good players at the table."""
        return SIDES[self.n_players][0]

    def evil_count(self) -> int:
        """Evil players at the table."""
        return SIDES[self.n_players][1]
