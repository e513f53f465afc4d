"""Avalon's own action kinds (proposals, team votes, quest cards) and event kinds."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from typing import Any, Literal

from scenarios.avalon.table import (
    APPROVE,
    EVIL,
    FAIL,
    MAX_REJECTIONS,
    QUESTS,
    REJECT,
    SUCCESS,
    TEAM,
    TEAM_SIZES,
)
from traitors.game.actions import ActionBase, ActionError, ActionRequest, reply_field, require
from traitors.game.board import Board, Tally
from traitors.game.events import EventBase, game
from traitors.game.words import Words

# --- action kinds ---------------------------------------------------------------------------


class Propose(ActionBase):
    """The leader's proposal: a team of distinct players for the quest."""

    kind: Literal["propose"] = "propose"
    team: tuple[str, ...]
    """The players proposed, each once (the leader may include themself)."""

    def check(self, request: ActionRequest) -> None:
        require(
            len(self.team) == request.picks,
            f"a team of {request.picks} players is needed, not {len(self.team)}",
        )
        require(len(set(self.team)) == len(self.team), f"team {list(self.team)} repeats a player")
        unknown = [p for p in self.team if p not in request.targets]
        require(not unknown, f"{unknown} cannot go on the quest; legal: {list(request.targets)}")

    @classmethod
    def reply_fields(cls, request: ActionRequest) -> dict[str, Any]:
        return {
            "team": {
                "type": "array",
                "items": {"type": "string", "enum": list(request.targets)},
                "minItems": request.picks,
                "maxItems": request.picks,
                "uniqueItems": True,
            }
        }

    @classmethod
    def from_reply(cls, data: dict[str, Any], request: ActionRequest) -> dict[str, Any]:
        team = reply_field(data, "team")
        if not isinstance(team, list):
            raise ActionError("team must be a list of player names")
        return {"kind": "propose", "team": team}

    @classmethod
    def sample(cls, request: ActionRequest, rng: random.Random) -> Propose:
        return Propose(team=tuple(rng.sample(request.targets, request.picks)))

    @classmethod
    def catalogue(cls, rules: Any, seats: Sequence[str]) -> list[tuple[str, ActionBase]]:
        sizes = sorted(set(TEAM_SIZES[len(seats)]))
        return [
            (f"team {'+'.join(team)}", Propose(team=team))
            for size in sizes
            for team in itertools.combinations(seats, size)
        ]


class TeamVote(ActionBase):
    """A public ballot on the proposed team."""

    kind: Literal["team_vote"] = "team_vote"
    approve: bool
    """True to approve the team, False to reject it."""

    def check(self, request: ActionRequest) -> None:
        choice = APPROVE if self.approve else REJECT
        require(choice in request.choices, f"{choice!r} not legal; legal: {list(request.choices)}")

    @classmethod
    def reply_fields(cls, request: ActionRequest) -> dict[str, Any]:
        return {"team_vote": {"type": "string", "enum": list(request.choices)}}

    @classmethod
    def from_reply(cls, data: dict[str, Any], request: ActionRequest) -> dict[str, Any]:
        choice = reply_field(data, "team_vote")
        require(choice in (APPROVE, REJECT), f"team_vote must be {APPROVE!r} or {REJECT!r}")
        return {"kind": "team_vote", "approve": choice == APPROVE}

    @classmethod
    def sample(cls, request: ActionRequest, rng: random.Random) -> TeamVote:
        return TeamVote(approve=rng.choice(request.choices) == APPROVE)

    @classmethod
    def catalogue(cls, rules: Any, seats: Sequence[str]) -> list[tuple[str, ActionBase]]:
        return [(APPROVE, TeamVote(approve=True)), (REJECT, TeamVote(approve=False))]


class QuestCard(ActionBase):
    """A secret quest card played by a team member."""

    kind: Literal["quest_card"] = "quest_card"
    card: Literal["success", "fail"]
    """The card; good players may only play success."""

    def check(self, request: ActionRequest) -> None:
        require(
            self.card in request.choices,
            f"card {self.card!r} not yours to play; legal: {list(request.choices)}",
        )

    @classmethod
    def reply_fields(cls, request: ActionRequest) -> dict[str, Any]:
        return {"card": {"type": "string", "enum": list(request.choices)}}

    @classmethod
    def from_reply(cls, data: dict[str, Any], request: ActionRequest) -> dict[str, Any]:
        return {"kind": "quest_card", "card": reply_field(data, "card")}

    @classmethod
    def sample(cls, request: ActionRequest, rng: random.Random) -> QuestCard | None:
        if not request.choices:
            return None
        return QuestCard(card=SUCCESS if rng.choice(request.choices) == SUCCESS else FAIL)

    @classmethod
    def catalogue(cls, rules: Any, seats: Sequence[str]) -> list[tuple[str, ActionBase]]:
        return [("play success", QuestCard(card=SUCCESS)), ("play fail", QuestCard(card=FAIL))]


# --- event kinds ----------------------------------------------------------------------------

Sight = Literal["evil", "merlin", "merlin_or_morgana"]
"""What a vision shows: evil players, Merlin, or a pair holding Merlin and Morgana."""


class QuestBoardEvent(EventBase):
    """The quests' team sizes and fail thresholds, announced at setup (public)."""

    kind: Literal["quest_board"] = "quest_board"
    sizes: tuple[int, ...]
    """Team size of quests 1 to 5."""
    fails_needed: tuple[int, ...]
    """Fail cards that fail quests 1 to 5."""

    def _summary(self) -> str:
        sizes = ", ".join(map(str, self.sizes))
        doubles = [str(i + 1) for i, n in enumerate(self.fails_needed) if n > 1]
        two = f"; quest {', '.join(doubles)} fails only on two fail cards" if doubles else ""
        return f"quest teams of {sizes}{two}"

    def prompt_text(self, viewer: str, words: Words) -> str:
        return game(self._summary() + ".")

    def line_text(self, words: Words) -> str:
        return self._summary()

    def update_board(self, board: Board) -> None:
        board.notes["quests"] = " ".join("·" * len(self.sizes))
        marks = ["²" if n > 1 else "" for n in self.fails_needed]
        board.notes["sizes"] = " ".join(f"{s}{m}" for s, m in zip(self.sizes, marks, strict=True))


class VisionEvent(EventBase):
    """What Merlin or Percival sees at the start (private)."""

    kind: Literal["vision"] = "vision"
    player: str
    """Who sees."""
    seen: tuple[str, ...]
    """The players seen, in seat order (which says nothing about who is who)."""
    sees: Sight
    """What they are: ``evil`` (Merlin's sight: every evil player but Mordred),
    ``merlin`` (Percival without Morgana in play), ``merlin_or_morgana`` (Percival: one is
    Merlin, the other Morgana)."""

    def knowledge(self) -> str:
        """What the player knows from it, in words."""
        names = ", ".join(self.seen)
        if self.sees == "evil":
            return f"you see these players as evil: {names}."
        if self.sees == "merlin":
            return f"{names} is Merlin."
        return f"one of {names} is Merlin (the other is Morgana); you cannot tell which."

    def prompt_text(self, viewer: str, words: Words) -> str:
        return game(self.knowledge())

    def line_text(self, words: Words) -> str:
        if self.sees == "evil":
            return f"{self.player} sees as evil: {', '.join(self.seen)}"
        return f"{self.player} sees Merlin among: {', '.join(self.seen)}"

    def update_board(self, board: Board) -> None:
        if board.viewer != self.player:
            return  # the god view shows true roles; other views never get this event
        if self.sees == "evil":
            for name in self.seen:
                board.seats[name].role = board.seats[name].role or EVIL
        else:
            board.notes["merlin is"] = " or ".join(self.seen)


class ProposalEvent(EventBase):
    """The leader proposed a team (public)."""

    kind: Literal["proposal"] = "proposal"
    team: tuple[str, ...]
    """The proposed team."""
    attempt: int
    """Proposal number within this quest, 1 to 5."""

    def prompt_text(self, viewer: str, words: Words) -> str:
        who = "you" if self.actor == viewer else f"the leader {self.actor}"
        return game(
            f"{who} proposed the team {', '.join(self.team)} for quest {self.round} "
            f"(proposal {self.attempt} of {MAX_REJECTIONS})."
        )

    def line_text(self, words: Words) -> str:
        return (
            f"{self.actor} proposes {', '.join(self.team)} "
            f"(quest {self.round}, proposal {self.attempt}/{MAX_REJECTIONS})"
        )

    def update_board(self, board: Board) -> None:
        board.notes["leader"] = self.actor or "?"
        board.notes["team"] = ", ".join(self.team)


class TeamVoteEvent(EventBase):
    """One player's public ballot on the proposed team."""

    kind: Literal["team_vote"] = "team_vote"
    attempt: int
    """Proposal number within this quest."""
    approve: bool
    """True: approve; False: reject."""

    def prompt_text(self, viewer: str, words: Words) -> str:
        who = "you" if self.actor == viewer else self.actor
        return game(f"{who} voted to {APPROVE if self.approve else REJECT} the team.")

    def line_text(self, words: Words) -> str:
        return f"{self.actor} {'approves' if self.approve else 'rejects'}"

    def update_board(self, board: Board) -> None:
        key = (self.round, TEAM, self.attempt - 1)
        tally = board.tally
        if tally is None or tally.counted or (tally.round, tally.purpose, tally.ballot) != key:
            tally = board.tally = Tally(self.round, TEAM, self.attempt - 1)
        choice = APPROVE if self.approve else REJECT
        tally.votes[self.actor or ""] = choice
        tally.counts[choice] = tally.counts.get(choice, 0) + 1


class TeamVoteResultEvent(EventBase):
    """The team vote's count (public): approved by a strict majority, or rejected."""

    kind: Literal["team_result"] = "team_result"
    team: tuple[str, ...]
    """The team voted on."""
    attempt: int
    """Proposal number within this quest."""
    approvals: int
    """Ballots to approve."""
    rejections: int
    """Ballots to reject."""
    approved: bool
    """True if more than half of the ballots approved."""
    rejected_in_a_row: int
    """Teams rejected in a row after this vote (five: evil wins)."""

    def _text(self) -> str:
        verdict = "approved" if self.approved else "rejected"
        row = (
            f"; {self.rejected_in_a_row} rejected in a row ({MAX_REJECTIONS} lose the game "
            "for good)"
            if not self.approved
            else ""
        )
        return f"team {', '.join(self.team)} {verdict} {self.approvals}-{self.rejections}{row}"

    def prompt_text(self, viewer: str, words: Words) -> str:
        return game(self._text() + ".")

    def line_text(self, words: Words) -> str:
        return self._text()

    def update_board(self, board: Board) -> None:
        board.notes["rejections"] = f"{self.rejected_in_a_row}/{MAX_REJECTIONS}"
        tally = board.tally
        if tally is None or (tally.round, tally.purpose, tally.ballot) != (
            self.round,
            TEAM,
            self.attempt - 1,
        ):
            tally = board.tally = Tally(self.round, TEAM, self.attempt - 1)
        tally.counts = {APPROVE: self.approvals, REJECT: self.rejections}
        tally.decided = APPROVE if self.approved else REJECT
        tally.counted = True


class QuestCardEvent(EventBase):
    """The card a team member played (private to that player)."""

    kind: Literal["quest_card"] = "quest_card"
    card: Literal["success", "fail"]
    """The card played."""

    def prompt_text(self, viewer: str, words: Words) -> str | None:
        return game(f"you played {self.card} on the quest.") if viewer == self.actor else None

    def line_text(self, words: Words) -> str:
        return f"{self.actor} plays {self.card}"


class QuestResultEvent(EventBase):
    """A quest's result (public): how many fail cards, never whose."""

    kind: Literal["quest_result"] = "quest_result"
    team: tuple[str, ...]
    """The team that went."""
    fails: int
    """Fail cards played."""
    fails_needed: int
    """Fail cards that fail this quest."""
    succeeded: bool
    """True if fewer fail cards than needed were played."""

    def _text(self) -> str:
        verdict = "succeeded" if self.succeeded else "failed"
        return (
            f"quest {self.round} {verdict}: {self.fails} fail card(s) from {', '.join(self.team)}"
        )

    def prompt_text(self, viewer: str, words: Words) -> str:
        return game(self._text() + ".")

    def line_text(self, words: Words) -> str:
        return self._text()

    def update_board(self, board: Board) -> None:
        marks = board.notes.get("quests", " ".join("·" * QUESTS)).split()
        if 1 <= self.round <= len(marks):
            marks[self.round - 1] = "✓" if self.succeeded else "✗"
        board.notes["quests"] = " ".join(marks)


class MerlinBeliefEvent(EventBase):
    """An evil player's private probability that each player is Merlin."""

    kind: Literal["merlin_belief"] = "merlin_belief"
    probs: dict[str, float]
    """Player -> P(Merlin), in [0, 1]."""

    def prompt_text(self, viewer: str, words: Words) -> None:
        return None  # a private estimate, like the belief probe

    def line_text(self, words: Words) -> str:
        probs = ", ".join(f"{p} {v:.2f}" for p, v in self.probs.items())
        return f"{self.actor} believes P(merlin): {probs or '-'}"


class AssassinationEvent(EventBase):
    """The Assassin named a player as Merlin (public), and whether it was Merlin."""

    kind: Literal["assassination"] = "assassination"
    target: str
    """The player named."""
    hit: bool
    """True if the named player is Merlin."""

    def _text(self) -> str:
        verdict = "it is Merlin" if self.hit else "it is not Merlin"
        return f"the assassin {self.actor} names {self.target}: {verdict}"

    def prompt_text(self, viewer: str, words: Words) -> str:
        return game(self._text() + ".")

    def line_text(self, words: Words) -> str:
        return self._text()

    def update_board(self, board: Board) -> None:
        board.notes["assassin"] = f"{self.target}: {'hit' if self.hit else 'miss'}"
