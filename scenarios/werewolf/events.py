"""Werewolf's own events: a team-only reveal, the doctor's save notice, a threat level."""

from __future__ import annotations

from typing import ClassVar, Literal

from traitors.game.events import (
    EventBase,
    game,
)
from traitors.game.words import Words


class TeamRevealEvent(EventBase):
    """A player's team (not their role) was revealed: to all on an exile or a death when the
    rules reveal only teams, or to the seer who learns only teams."""

    kind: Literal["team_reveal"] = "team_reveal"
    player: str
    """Player whose team is revealed."""
    team: str
    """The revealed team (a faction's name)."""

    def prompt_text(self, viewer: str, words: Words) -> str:
        return game(f"{self.player} is on the {self.team}' side.")

    def line_text(self, words: Words) -> str:
        return f"** {self.player} is on the {self.team}' side"


class SaveEvent(EventBase):
    """The doctor's protection stopped the werewolves' attack (told to the doctor alone)."""

    kind: Literal["save"] = "save"
    target: str
    """The player who was attacked and saved."""

    def prompt_text(self, viewer: str, words: Words) -> str:
        return game(f"Your protection saved {self.target} from the werewolves tonight.")

    def line_text(self, words: Words) -> str:
        return f"** the doctor saved {self.target}"


THREAT_LEVELS = ("SAFE", "UNEASY", "DANGER")
"""How endangered a player says they feel with each action (Kaggle Game Arena's records)."""


class ThreatEvent(EventBase):
    """How endangered a player privately felt when acting (kept from imported games)."""

    kind: Literal["threat"] = "threat"
    note: ClassVar[bool] = True
    level: str
    """The perceived threat level, e.g. SAFE, UNEASY, DANGER."""

    def prompt_text(self, viewer: str, words: Words) -> None:
        return None  # a private feeling, never shown in a prompt

    def line_text(self, words: Words) -> str:
        return f"{self.actor} feels {self.level}"
