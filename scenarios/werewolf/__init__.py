"""Werewolf, by default with the rules of Werewolf Arena (Bailis et al. 2024).

Night: the werewolves talk in their private channel and vote a victim; the doctor
protects one player; the seer learns one player's role privately. Day: the death (if the
doctor did not save the victim) is announced, then up to ``debate_turns`` turns of debate
chosen by bidding (every living player privately bids 0-4; the highest bid speaks; ties
are a seeded pick), then an exile vote that needs more than half of the votes cast.
Werewolves win at parity; the village wins when no werewolf lives. Its options also play
Kaggle Game Arena's rule configs (``config``; presets ``werewolf_kaggle_*.yaml``).

Modules: ``words`` (its vocabulary), ``bidding``, ``events`` (its own event kinds),
``config`` (the rule options), ``state`` (the state, seat orders and sequential votes),
``rules`` (the phase machine) and ``heuristic`` (its scripted player).
"""

from scenarios.werewolf.bidding import Bid, BidEvent, highest_bidder
from scenarios.werewolf.config import Order, Reveal, WerewolfConfig
from scenarios.werewolf.events import THREAT_LEVELS, SaveEvent, TeamRevealEvent, ThreatEvent
from scenarios.werewolf.heuristic import WerewolfHeuristic
from scenarios.werewolf.rules import Werewolf
from scenarios.werewolf.state import WerewolfState, cast_vote, seat_order, standing, still_to_vote
from scenarios.werewolf.words import (
    CHANNEL,
    DOCTOR,
    EXILE,
    KILL,
    SEER,
    VILLAGER,
    WEREWOLF,
    WOLVES,
    WORDS,
)

__all__ = [
    "CHANNEL",
    "DOCTOR",
    "EXILE",
    "KILL",
    "SEER",
    "THREAT_LEVELS",
    "VILLAGER",
    "WEREWOLF",
    "WOLVES",
    "WORDS",
    "Bid",
    "BidEvent",
    "Order",
    "Reveal",
    "SaveEvent",
    "TeamRevealEvent",
    "ThreatEvent",
    "Werewolf",
    "WerewolfConfig",
    "WerewolfHeuristic",
    "WerewolfState",
    "cast_vote",
    "highest_bidder",
    "seat_order",
    "standing",
    "still_to_vote",
]
