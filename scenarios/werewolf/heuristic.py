"""Werewolf's scripted player."""

from __future__ import annotations

from typing import ClassVar

from agents.scripted import SuspicionPolicy
from scenarios.werewolf.bidding import Bid
from scenarios.werewolf.words import (
    EXILE,
    KILL,
)
from traitors.episode.policy import Observation
from traitors.game.actions import (
    Action,
    ActionRequest,
    Vote,
)


class WerewolfHeuristic(SuspicionPolicy):
    """Werewolf's scripted player: villagers exile their top suspect, the doctor guards
    itself, the seer looks at unknown suspects, werewolves kill whoever presses them, and
    a player bids high when accused."""

    speech_purposes: ClassVar[frozenset[str]] = frozenset({"debate"})
    public_votes: ClassVar[frozenset[str]] = frozenset({EXILE})
    hidden_kills: ClassVar[frozenset[str]] = frozenset({KILL})
    plot_purposes: ClassVar[frozenset[str]] = frozenset({"night_talk"})
    kill_votes: ClassVar[frozenset[str]] = frozenset({"kill_vote"})

    def choose(self, observation: Observation, request: ActionRequest) -> Action:
        purpose, targets = request.purpose, request.targets
        if purpose == "protect" and targets:
            return Vote(target=self.seat if self.seat in targets else self.victim(targets))
        if purpose == "investigate" and targets:
            unknown = tuple(p for p in targets if p not in self.known)
            return Vote(target=self.suspect(unknown or targets))
        if purpose == "bid":
            pressed = self.round_accusations[self.seat] > 0
            return Bid(amount=request.max_amount if pressed else self.rng.randint(0, 2))
        return super().choose(observation, request)
