"""The state of an Avalon game."""

from __future__ import annotations

from dataclasses import dataclass

from scenarios.avalon.table import EVIL, OBERON, WORDS
from scenarios.common import TableState


@dataclass(frozen=True, kw_only=True)
class AvalonState(TableState):
    """The full state of a game; replaced, never mutated."""

    leader: int = 0
    """Seat index of the current leader."""
    attempt: int = 0
    """Proposal number within the current quest (1-5)."""
    team: tuple[str, ...] = ()
    """The team proposed (and, once approved, on the quest)."""
    rejected: int = 0
    """Teams rejected in a row in the current quest."""
    quests: tuple[bool, ...] = ()
    """Result of each quest played: True for a success."""

    def holder(self, role: str) -> str | None:
        """The player holding ``role``, if it is in play."""
        return next((p for p in self.players if self.roles[p] == role), None)

    def evil(self) -> tuple[str, ...]:
        """Every evil player, in seat order."""
        return tuple(p for p in self.players if WORDS.roles[self.roles[p]] == EVIL)

    def known_allies(self, player: str) -> tuple[str, ...]:
        """The evil team mates ``player`` knows: none for Oberon or a good player."""
        if self.roles[player] == OBERON or player not in self.evil():
            return ()
        return tuple(p for p in self.evil() if p != player and self.roles[p] != OBERON)

    def strangers(self, player: str) -> tuple[str, ...]:
        """The other players ``player`` does not know as allies (who may be Merlin to it)."""
        known = self.known_allies(player)
        return tuple(p for p in self.players if p != player and p not in known)

    def successes(self) -> int:
        """Quests that succeeded."""
        return sum(self.quests)

    def failures(self) -> int:
        """Quests that failed."""
        return len(self.quests) - sum(self.quests)
