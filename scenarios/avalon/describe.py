"""Avalon's rules in plain words, for agents' prompts."""

from __future__ import annotations

from scenarios.avalon.config import AvalonConfig
from scenarios.avalon.table import MAX_REJECTIONS, QUEST_WORDS, QUESTS, TEAM_SIZES


def describe(c: AvalonConfig) -> str:
    """The rules in plain words, for agents' prompts."""
    sizes = ", ".join(map(str, TEAM_SIZES[c.n_players]))
    two = " (the fourth quest fails only on two fail cards)" if c.n_players >= 7 else ""
    return "\n".join(
        [
            f"You are playing The Resistance: Avalon with {c.n_players} players: "
            f"{c.good_count()} good (loyal servants of Arthur) and {c.evil_count()} evil "
            "(minions of Mordred).",
            *_role_lines(c),
            f"Each round is a quest, {QUEST_WORDS[c.max_rounds]} at most"
            + (
                f" (no side with three quests after quest {c.max_rounds}: a draw). "
                if c.max_rounds < QUESTS
                else ". "
            )
            + "The leader (the role passes around the "
            f"table in seat order) proposes a team: the quests need {sizes} players. "
            + ("Every player then speaks once about the team. " if c.discussion else "")
            + "Then everyone votes in public to approve or reject it; more than half must "
            f"approve (a tie rejects). {MAX_REJECTIONS} teams rejected in a row: evil wins.",
            "The members of an approved team secretly play a quest card each: success or "
            f"fail; good players can only play success. One fail card fails the quest{two}. "
            "Only the number of fail cards is announced, never who played them.",
            "Three failed quests: evil wins. Three successful quests: the Assassin names one "
            "player; if that player is Merlin evil wins, otherwise good wins.",
        ]
    )


def _role_lines(c: AvalonConfig) -> list[str]:
    """What the special roles see."""
    lines = [
        "Merlin (good) sees every evil player"
        + (" except Mordred" if c.mordred else "")
        + ", and must stay hidden from the Assassin.",
    ]
    if c.percival:
        lines.append(
            "Percival (good) sees Merlin"
            + (" and Morgana, without knowing which is which." if c.morgana else ".")
        )
    lines.append(
        "The evil players know each other"
        + (
            ", except Oberon, who knows none of them and whom none of them knows."
            if c.oberon
            else "."
        )
    )
    if c.mordred:
        lines.append("Mordred (evil) is hidden from Merlin.")
    return lines
