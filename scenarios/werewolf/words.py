"""Werewolf's words: its roles, its channel, its eliminations and votes."""

from __future__ import annotations

from traitors.game.events import (
    Channel,
)
from traitors.game.words import Faction, Words

WEREWOLF, SEER, DOCTOR, VILLAGER = "werewolf", "seer", "doctor", "villager"
CHANNEL = "werewolves"
WOLVES = Channel(name=CHANNEL)
EXILE, KILL = "exile", "kill"

WORDS = Words(
    factions=(
        Faction(name="villagers", member=VILLAGER),
        Faction(name="werewolves", member=WEREWOLF, hidden=True, allies="your fellow werewolves"),
    ),
    roles={VILLAGER: "villagers", SEER: "villagers", DOCTOR: "villagers", WEREWOLF: "werewolves"},
    channels={CHANNEL: "the werewolves' channel"},
    phases={
        "night_talk": "the werewolves' night talk",
        "night": "the night",
        "bid": "bidding for the next turn",
        "exile_vote": "the exile vote",
    },
    eliminations={EXILE: "exiled", KILL: "killed"},
    votes={EXILE: "to exile", KILL: "to kill", "protect": "to protect", "investigate": "to see"},
    suspect=WEREWOLF,
)
"""Werewolf in its own words."""
