"""Avalon's table: its roles and sides, the quests' team sizes and fail thresholds, and
the game in its own words."""

from __future__ import annotations

from traitors.game.words import Faction, Words

MERLIN, PERCIVAL, SERVANT = "merlin", "percival", "loyal_servant"
ASSASSIN, MORGANA, MORDRED, OBERON, MINION = "assassin", "morgana", "mordred", "oberon", "minion"
GOOD, EVIL = "good", "evil"
SUCCESS, FAIL = "success", "fail"
APPROVE, REJECT = "approve", "reject"
QUESTS = 5
"""Quests in a game (the most rounds a game can last)."""
QUEST_WORDS = ("none", "one", "two", "three", "four", "five")
"""How the rules text spells a quest limit."""
MAX_REJECTIONS = 5
"""Teams rejected in a row that make evil win."""
TEAM = "team"
"""The purpose the team vote shows under in the spectator's tally."""

SIDES: dict[int, tuple[int, int]] = {
    5: (3, 2),
    6: (4, 2),
    7: (4, 3),
    8: (5, 3),
    9: (6, 3),
    10: (6, 4),
}
"""Table size -> (good players, evil players)."""
TEAM_SIZES: dict[int, tuple[int, ...]] = {
    5: (2, 3, 2, 3, 3),
    6: (2, 3, 4, 3, 4),
    7: (2, 3, 3, 4, 4),
    8: (3, 4, 4, 5, 5),
    9: (3, 4, 4, 5, 5),
    10: (3, 4, 4, 5, 5),
}
"""Table size -> team size of quests 1 to 5."""


def team_size(players: int, quest: int) -> int:
    """How many players go on quest ``quest`` (1-5) at a table of ``players``."""
    return TEAM_SIZES[players][quest - 1]


def fails_needed(players: int, quest: int) -> int:
    """Fail cards that fail quest ``quest``: two on the fourth quest with 7+ players, else one."""
    return 2 if players >= 7 and quest == 4 else 1


WORDS = Words(
    factions=(
        Faction(name=GOOD, member=GOOD),
        Faction(name=EVIL, member=EVIL, hidden=True, allies="your fellow evil players"),
    ),
    roles={
        SERVANT: GOOD,
        MERLIN: GOOD,
        PERCIVAL: GOOD,
        ASSASSIN: EVIL,
        MORGANA: EVIL,
        MORDRED: EVIL,
        OBERON: EVIL,
        MINION: EVIL,
    },
    phases={
        "proposal": "the leader's team proposal",
        "discussion": "the discussion of the proposed team",
        "belief_probe": "the private belief probe",
        "team_vote": "the team vote",
        "quest": "the quest",
        "merlin_probe": "the evil players' private guess at Merlin",
        "assassination": "the assassination",
    },
    suspect=EVIL,
)
"""Avalon in its own words: a loyal servant first, as the innocent role to claim."""
