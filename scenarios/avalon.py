"""The Resistance: Avalon, standard rules, 5 to 10 players.

Good (Merlin, Percival, loyal servants of Arthur) against evil (the Assassin, Morgana,
Mordred, Oberon, minions of Mordred). At the start the evil players see each other (except
Oberon, who sees none of them and whom none of them sees), Merlin sees every evil player
except Mordred, and Percival sees Merlin and Morgana without knowing which is which.

A round is a quest (five at most). The leader (rotating in seat order from a seeded random
seat) proposes a team of the quest's size; every player speaks once about it; everyone
privately reports P(evil) for the others; then everyone votes in public to approve or
reject it (a strict majority approves). Five rejected teams in a row: evil wins. An
approved team plays secret quest cards (good players can only play success); one fail card
fails the quest, except the fourth quest with seven or more players, which needs two. Only
the number of fail cards is announced. Three failed quests: evil wins. Three successful
quests: the Assassin names one player, and evil wins if that player is Merlin. Evil players
may also be asked, privately, how likely each player is to be Merlin (after each quest, or
only before the assassination), so the analysis can see how early evil finds Merlin.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from agents.scripted import ACCUSE_LINES, CALM_LINES, SuspicionPolicy, speech
from scenarios.common import SeatsState, belief_events, belief_probe, goto
from traitors.actions import (
    Accuse,
    Action,
    ActionBase,
    ActionError,
    ActionRequest,
    Belief,
    Claim,
    ClaimRole,
    Defend,
    Speak,
    Vote,
    reply_field,
    require,
)
from traitors.events import (
    BeliefEvent,
    Event,
    EventBase,
    GodOnly,
    PhaseEvent,
    Private,
    RevealEvent,
    RoleEvent,
    SpeakEvent,
    game,
)
from traitors.policy import Observation
from traitors.rules import IllegalTransition, Outcome, RulesBase, RulesConfig, Step
from traitors.spectate.board import Board, Tally
from traitors.words import Faction, Words

# --- the table --------------------------------------------------------------------------

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


# --- rules ------------------------------------------------------------------------------

TRANSITIONS: dict[str, frozenset[str]] = {
    "setup": frozenset({"proposal"}),
    "proposal": frozenset({"discussion", "belief_probe", "team_vote"}),
    "discussion": frozenset({"belief_probe", "team_vote"}),
    "belief_probe": frozenset({"team_vote"}),
    "team_vote": frozenset({"quest", "proposal", "game_over"}),
    "quest": frozenset({"proposal", "merlin_probe", "assassination", "game_over"}),
    "merlin_probe": frozenset({"proposal", "assassination"}),
    "assassination": frozenset({"game_over"}),
    "game_over": frozenset(),
}
"""Phase -> the phases it may move to."""


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


@dataclass(frozen=True, kw_only=True)
class AvalonState(SeatsState):
    """The full state of a game; replaced, never mutated."""

    seed: int
    """Seed of the rules' own random stream."""
    leader: int = 0
    """Seat index of the current leader."""
    attempt: int = 0
    """Proposal number within the current quest (1-5)."""
    team: tuple[str, ...] = ()
    """The team proposed (and, once approved, on the quest)."""
    queue: tuple[str, ...] = ()
    """Speakers still to talk about the proposed team."""
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

    def successes(self) -> int:
        """Quests that succeeded."""
        return sum(self.quests)

    def failures(self) -> int:
        """Quests that failed."""
        return len(self.quests) - sum(self.quests)


def vision(state: AvalonState, player: str) -> VisionEvent | None:
    """What ``player`` sees at the start: Merlin's and Percival's private sight."""
    role = state.roles[player]
    seen: tuple[str, ...]
    sees: Sight
    if role == MERLIN:
        seen = tuple(p for p in state.evil() if state.roles[p] != MORDRED)
        sees = "evil"
    elif role == PERCIVAL:
        seen = tuple(p for p in state.players if state.roles[p] in (MERLIN, MORGANA))
        sees = "merlin_or_morgana" if len(seen) > 1 else "merlin"
    else:
        return None
    return VisionEvent(
        round=0,
        phase="setup",
        visibility=Private(agent=player),
        player=player,
        seen=seen,
        sees=sees,
    )


class Avalon(RulesBase[AvalonState, AvalonConfig]):
    """Rules of The Resistance: Avalon."""

    name: ClassVar[str] = "avalon"
    config_model: ClassVar[type[RulesConfig]] = AvalonConfig
    roles: ClassVar[tuple[str, ...]] = tuple(WORDS.roles)
    phases: ClassVar[tuple[str, ...]] = tuple(TRANSITIONS)
    words: ClassVar[Words] = WORDS
    event_kinds: ClassVar[tuple[type[EventBase], ...]] = (
        QuestBoardEvent,
        VisionEvent,
        ProposalEvent,
        TeamVoteEvent,
        TeamVoteResultEvent,
        QuestCardEvent,
        QuestResultEvent,
        MerlinBeliefEvent,
        AssassinationEvent,
    )
    action_kinds: ClassVar[tuple[type[ActionBase], ...]] = (Propose, TeamVote, QuestCard)

    def seat_count(self) -> int:
        return self.config.n_players

    def in_play(self) -> tuple[str, ...]:
        """The roles dealt at this table (loyal servants and minions fill the rest)."""
        c = self.config
        good = [MERLIN] + [PERCIVAL] * c.percival
        good += [SERVANT] * (c.good_count() - len(good))
        evil = [ASSASSIN] + [MORGANA] * c.morgana + [MORDRED] * c.mordred + [OBERON] * c.oberon
        evil += [MINION] * (c.evil_count() - len(evil))
        return (*good, *evil)

    def describe(self) -> str:
        """The rules in plain words, for agents' prompts."""
        c = self.config
        sizes = ", ".join(map(str, TEAM_SIZES[c.n_players]))
        two = " (the fourth quest fails only on two fail cards)" if c.n_players >= 7 else ""
        return "\n".join(
            [
                f"You are playing The Resistance: Avalon with {c.n_players} players: "
                f"{c.good_count()} good (loyal servants of Arthur) and {c.evil_count()} evil "
                "(minions of Mordred).",
                *self._role_lines(),
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

    def _role_lines(self) -> list[str]:
        c = self.config
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

    # --- setup -------------------------------------------------------------------------

    def initial_state(self, players: Sequence[str], rng: random.Random) -> AvalonState:
        players = tuple(players)
        if len(players) != self.config.n_players:
            raise ValueError(f"{len(players)} seats for a table of {self.config.n_players}")
        dealt = list(self.in_play())
        rng.shuffle(dealt)
        roles = dict(zip(players, dealt, strict=True))
        return AvalonState(
            round=0,
            phase="setup",
            players=players,
            alive=players,
            roles=roles,
            channels={},
            seed=rng.getrandbits(64),
            leader=rng.randrange(len(players)),
        )

    def setup_events(self, state: AvalonState) -> list[Event]:
        n = len(state.players)
        events: list[Event] = [
            PhaseEvent(round=0, phase="setup", alive=state.alive),
            QuestBoardEvent(
                round=0,
                phase="setup",
                sizes=TEAM_SIZES[n],
                fails_needed=tuple(fails_needed(n, q) for q in range(1, QUESTS + 1)),
            ),
        ]
        for player in state.players:
            events.append(
                RoleEvent(
                    round=0,
                    phase="setup",
                    visibility=Private(agent=player),
                    player=player,
                    role=state.roles[player],
                    allies=state.known_allies(player),
                )
            )
            sight = vision(state, player)
            if sight is not None:
                events.append(sight)
        return events

    # --- planning ------------------------------------------------------------------------

    def plan(self, state: AvalonState) -> Step:
        phase = state.phase
        if phase == "setup":
            return Step(phase)
        if phase == "proposal":
            leader = state.players[state.leader]
            return Step(phase, {leader: self._proposal_request(state, leader)})
        if phase == "discussion":
            speaker = state.queue[0]
            return Step(phase, {speaker: self._speech_request(state, speaker)})
        if phase == "belief_probe":
            requests = belief_probe(state.players, "evil")
            return Step(phase, requests, simultaneous=True)
        if phase == "team_vote":
            requests = {p: self._vote_request(state, p) for p in state.players}
            return Step(phase, requests, simultaneous=True)
        if phase == "quest":
            requests = {p: self._quest_request(state, p) for p in state.team}
            return Step(phase, dict(sorted(requests.items())), simultaneous=True)
        if phase == "merlin_probe":
            requests = {p: self._merlin_request(state, p) for p in state.evil()}
            return Step(phase, requests, simultaneous=True)
        if phase == "assassination":
            assassin = state.holder(ASSASSIN)
            assert assassin is not None
            return Step(phase, {assassin: self._assassin_request(state, assassin)})
        raise IllegalTransition(f"nothing to plan in phase {phase!r}")

    def _proposal_request(self, state: AvalonState, leader: str) -> ActionRequest:
        size = team_size(len(state.players), state.round)
        default = tuple(state.players[(state.leader + i) % len(state.players)] for i in range(size))
        return ActionRequest(
            actor=leader,
            purpose="proposal",
            prompt=f"You lead quest {state.round}: propose a team of {size} players (you may "
            f"include yourself). This is proposal {state.attempt} of {MAX_REJECTIONS}; "
            f"{state.rejected} team(s) of this quest were rejected so far.",
            kinds=("propose",),
            targets=state.players,
            picks=size,
            default=Propose(team=default),
        )

    def _speech_request(self, state: AvalonState, speaker: str) -> ActionRequest:
        return ActionRequest(
            actor=speaker,
            purpose="discussion",
            prompt=f"Discuss the proposed team {', '.join(state.team)} for quest {state.round}. "
            "Speak to everyone; you may accuse, defend or claim a role.",
            kinds=("speak", "pass"),
            claim_targets=tuple(p for p in state.players if p != speaker),
            roles=tuple(sorted(set(self.in_play()), key=self.roles.index)),
            max_text_chars=self.config.max_speech_chars,
        )

    def _vote_request(self, state: AvalonState, voter: str) -> ActionRequest:
        return ActionRequest(
            actor=voter,
            purpose="team_vote",
            prompt=f"Vote in public to approve or reject the team {', '.join(state.team)} "
            f"proposed by {state.players[state.leader]} for quest {state.round}. Teams "
            f"rejected in a row so far: {state.rejected}; a {MAX_REJECTIONS}th rejection "
            "makes evil win.",
            kinds=("team_vote",),
            choices=(APPROVE, REJECT),
            default=TeamVote(approve=True),
        )

    def _quest_request(self, state: AvalonState, member: str) -> ActionRequest:
        evil = member in state.evil()
        needed = fails_needed(len(state.players), state.round)
        return ActionRequest(
            actor=member,
            purpose="quest",
            prompt=f"You are on quest {state.round} with {', '.join(state.team)}. Play a "
            f"card in secret: {SUCCESS} or {FAIL} (good players can only play {SUCCESS}). "
            f"{needed} fail card(s) fail the quest.",
            kinds=("quest_card",),
            choices=(SUCCESS, FAIL) if evil else (SUCCESS,),
            default=QuestCard(card=SUCCESS),
        )

    def _merlin_request(self, state: AvalonState, player: str) -> ActionRequest:
        known = state.known_allies(player)
        return ActionRequest(
            actor=player,
            purpose="merlin_belief",
            prompt="Privately: for each player below, how likely is it (0 to 1) that they are "
            "Merlin? Nobody else sees this.",
            kinds=("belief",),
            targets=tuple(p for p in state.players if p != player and p not in known),
            default=Belief(probs={}),
        )

    def _assassin_request(self, state: AvalonState, assassin: str) -> ActionRequest:
        known = state.known_allies(assassin)
        targets = tuple(p for p in state.players if p != assassin and p not in known)
        return ActionRequest(
            actor=assassin,
            purpose="assassinate",
            prompt="Three quests succeeded. As the Assassin, name the player you believe is "
            "Merlin: if you are right, evil wins.",
            kinds=("vote",),
            targets=targets,
            default=Vote(target=targets[0]),
        )

    # --- applying ------------------------------------------------------------------------

    def apply(
        self, state: AvalonState, actions: Mapping[str, Action]
    ) -> tuple[AvalonState, list[Event]]:
        events: list[Event] = []
        phase = state.phase
        if phase == "setup":
            state = self._goto(replace(state, round=1), "proposal", events, attempt=1)
        elif phase == "proposal":
            state = self._apply_proposal(state, actions, events)
        elif phase == "discussion":
            state = self._apply_speech(state, actions, events)
        elif phase == "belief_probe":
            state = self._apply_beliefs(state, actions, events)
        elif phase == "team_vote":
            state = self._apply_team_vote(state, actions, events)
        elif phase == "quest":
            state = self._apply_quest(state, actions, events)
        elif phase == "merlin_probe":
            state = self._apply_merlin_probe(state, actions, events)
        elif phase == "assassination":
            state = self._apply_assassination(state, actions, events)
        else:
            raise IllegalTransition(f"no actions apply in phase {phase!r}")
        return state, events

    def _goto(
        self, state: AvalonState, phase: str, events: list[Event], **changes: object
    ) -> AvalonState:
        return goto(state, phase, TRANSITIONS, events, **changes)

    def _apply_proposal(
        self, state: AvalonState, actions: Mapping[str, Action], events: list[Event]
    ) -> AvalonState:
        leader = state.players[state.leader]
        action = actions[leader]
        assert isinstance(action, Propose)
        events.append(
            ProposalEvent(
                round=state.round,
                phase=state.phase,
                actor=leader,
                team=action.team,
                attempt=state.attempt,
            )
        )
        state = replace(state, team=action.team)
        if self.config.discussion:
            n = len(state.players)
            order = tuple(state.players[(state.leader + i) % n] for i in range(n))
            return self._goto(state, "discussion", events, queue=order)
        return self._after_discussion(state, events)

    def _after_discussion(self, state: AvalonState, events: list[Event]) -> AvalonState:
        if self.config.belief_probe:
            return self._goto(state, "belief_probe", events)
        return self._goto(state, "team_vote", events)

    def _apply_speech(
        self, state: AvalonState, actions: Mapping[str, Action], events: list[Event]
    ) -> AvalonState:
        speaker = state.queue[0]
        action = actions[speaker]
        if isinstance(action, Speak):
            events.append(
                SpeakEvent(
                    round=state.round,
                    phase=state.phase,
                    actor=speaker,
                    text=action.text,
                    claims=action.claims,
                )
            )
        state = replace(state, queue=state.queue[1:])
        return state if state.queue else self._after_discussion(state, events)

    def _apply_beliefs(
        self, state: AvalonState, actions: Mapping[str, Action], events: list[Event]
    ) -> AvalonState:
        events += belief_events(state, actions)
        return self._goto(state, "team_vote", events)

    def _apply_team_vote(
        self, state: AvalonState, actions: Mapping[str, Action], events: list[Event]
    ) -> AvalonState:
        ballots = {p: isinstance(a, TeamVote) and a.approve for p, a in sorted(actions.items())}
        for voter, approve in ballots.items():
            events.append(
                TeamVoteEvent(
                    round=state.round,
                    phase=state.phase,
                    actor=voter,
                    attempt=state.attempt,
                    approve=approve,
                )
            )
        approvals = sum(ballots.values())
        approved = approvals * 2 > len(ballots)
        rejected = 0 if approved else state.rejected + 1
        events.append(
            TeamVoteResultEvent(
                round=state.round,
                phase=state.phase,
                team=state.team,
                attempt=state.attempt,
                approvals=approvals,
                rejections=len(ballots) - approvals,
                approved=approved,
                rejected_in_a_row=rejected,
            )
        )
        leader = (state.leader + 1) % len(state.players)
        state = replace(state, leader=leader, rejected=rejected)
        if approved:
            return self._goto(state, "quest", events)
        if rejected >= MAX_REJECTIONS:
            reason = f"{MAX_REJECTIONS} teams rejected in a row"
            return self._end(state, Outcome(EVIL, reason, state.round), events)
        return self._goto(state, "proposal", events, attempt=state.attempt + 1, team=())

    def _apply_quest(
        self, state: AvalonState, actions: Mapping[str, Action], events: list[Event]
    ) -> AvalonState:
        cards = {
            p: (a.card if isinstance(a, QuestCard) else SUCCESS) for p, a in sorted(actions.items())
        }
        for member, card in cards.items():
            events.append(
                QuestCardEvent(
                    round=state.round,
                    phase=state.phase,
                    actor=member,
                    visibility=Private(agent=member),
                    card=card,
                )
            )
        fails = sum(card == FAIL for card in cards.values())
        needed = fails_needed(len(state.players), state.round)
        succeeded = fails < needed
        events.append(
            QuestResultEvent(
                round=state.round,
                phase=state.phase,
                team=state.team,
                fails=fails,
                fails_needed=needed,
                succeeded=succeeded,
            )
        )
        state = replace(state, quests=(*state.quests, succeeded))
        return self._after_quest(state, events)

    def _after_quest(self, state: AvalonState, events: list[Event]) -> AvalonState:
        if state.failures() >= 3:
            return self._end(state, Outcome(EVIL, "three quests failed", state.round), events)
        probe = self.config.merlin_probe
        if state.successes() >= 3:
            if probe != "never":
                return self._goto(state, "merlin_probe", events)
            return self._goto(state, "assassination", events)
        if state.round >= self.config.max_rounds:
            outcome = Outcome(None, "round limit reached", state.round, truncated=True)
            return self._end(state, outcome, events)
        if probe == "each_round":
            return self._goto(state, "merlin_probe", events)
        return self._next_quest(state, events)

    def _next_quest(self, state: AvalonState, events: list[Event]) -> AvalonState:
        state = replace(state, round=state.round + 1)
        return self._goto(state, "proposal", events, attempt=1, rejected=0, team=())

    def _apply_merlin_probe(
        self, state: AvalonState, actions: Mapping[str, Action], events: list[Event]
    ) -> AvalonState:
        events += belief_events(state, actions, MerlinBeliefEvent)
        if state.successes() >= 3:
            return self._goto(state, "assassination", events)
        return self._next_quest(state, events)

    def _apply_assassination(
        self, state: AvalonState, actions: Mapping[str, Action], events: list[Event]
    ) -> AvalonState:
        assassin = state.holder(ASSASSIN)
        assert assassin is not None
        action = actions[assassin]
        assert isinstance(action, Vote)
        hit = state.roles[action.target] == MERLIN
        events.append(
            AssassinationEvent(
                round=state.round,
                phase=state.phase,
                actor=assassin,
                target=action.target,
                hit=hit,
            )
        )
        outcome = (
            Outcome(EVIL, "the assassin found Merlin", state.round)
            if hit
            else Outcome(GOOD, "three quests succeeded and Merlin stayed hidden", state.round)
        )
        return self._end(state, outcome, events)

    def _end(self, state: AvalonState, outcome: Outcome, events: list[Event]) -> AvalonState:
        """Game over: reveal every role (if configured) and record the outcome."""
        if "game_over" not in TRANSITIONS[state.phase]:
            raise IllegalTransition(f"{state.phase} -> game_over")
        if self.config.reveal_at_end:
            for player in state.players:
                events.append(
                    RevealEvent(
                        round=state.round,
                        phase=state.phase,
                        player=player,
                        role=state.roles[player],
                    )
                )
        return replace(state, phase="game_over", result=outcome, queue=())

    def outcome(self, state: AvalonState) -> Outcome | None:
        return state.result

    # --- judging and auditing ---------------------------------------------------------

    def judge(self, events: Sequence[Event]) -> str | None:
        """The winner from the god's-eye log alone: quests from the cards played, team votes
        from the ballots, the assassination from the dealt roles."""
        roles = {e.player: e.role for e in events if isinstance(e, RoleEvent)}
        ballots: dict[tuple[int, int], list[bool]] = defaultdict(list)
        cards: dict[int, list[str]] = defaultdict(list)
        quests: list[bool] = []
        in_a_row = 0
        for event in events:
            if isinstance(event, TeamVoteEvent):
                ballots[(event.round, event.attempt)].append(event.approve)
            elif isinstance(event, TeamVoteResultEvent):
                votes = ballots[(event.round, event.attempt)]
                in_a_row = 0 if sum(votes) * 2 > len(votes) else in_a_row + 1
                if in_a_row >= MAX_REJECTIONS:
                    return EVIL
            elif isinstance(event, QuestCardEvent):
                cards[event.round].append(event.card)
            elif isinstance(event, QuestResultEvent):
                fails = cards[event.round].count(FAIL)
                quests.append(fails < fails_needed(len(roles), event.round))
                in_a_row = 0
                if quests.count(False) >= 3:
                    return EVIL
            elif isinstance(event, AssassinationEvent):
                return EVIL if roles.get(event.target) == MERLIN else GOOD
        return None

    def audit(self, state: AvalonState, event: Event, viewer: str) -> str | None:
        """The game's secrets: roles, visions, quest cards and the probes of each player."""
        if isinstance(event.visibility, GodOnly):
            return "god-only event shown to a player"
        if isinstance(event, RoleEvent):
            return self._audit_role(state, event, viewer)
        if isinstance(event, VisionEvent):
            return self._audit_vision(state, event, viewer)
        if isinstance(event, QuestCardEvent) and event.actor != viewer:
            return f"{event.actor}'s quest card shown to {viewer}"
        if isinstance(event, BeliefEvent | MerlinBeliefEvent) and event.actor != viewer:
            return f"{event.actor}'s private probe shown to {viewer}"
        if isinstance(event, MerlinBeliefEvent) and viewer not in state.evil():
            return "a Merlin probe asked of a good player"
        if isinstance(event, RevealEvent) and state.result is None:
            return f"role of {event.player} revealed before the game ended"
        return None

    def _audit_role(self, state: AvalonState, event: RoleEvent, viewer: str) -> str | None:
        if event.player != viewer:
            return f"role of {event.player} shown to {viewer}"
        expected = set(state.known_allies(viewer))
        if set(event.allies) != expected:
            return f"{viewer} told of allies {list(event.allies)}, knows {sorted(expected)}"
        return None

    def _audit_vision(self, state: AvalonState, event: VisionEvent, viewer: str) -> str | None:
        if event.player != viewer:
            return f"{event.player}'s vision shown to {viewer}"
        role = state.roles[viewer]
        seen = {state.roles[p] for p in event.seen}
        if role == MERLIN and (MORDRED in seen or any(WORDS.roles[r] != EVIL for r in seen)):
            return f"Merlin shown {sorted(seen)}"
        if role == PERCIVAL and not seen <= {MERLIN, MORGANA}:
            return f"Percival shown {sorted(seen)}"
        if role not in (MERLIN, PERCIVAL):
            return f"a {role} given a vision"
        return None


# --- the scripted player -------------------------------------------------------------------

DOUBT_LINES = (
    "I don't want {t} on this quest.",
    "{t} on this team worries me; I'll vote against it.",
    "Think about who was on the failed quests. {t} keeps turning up.",
)
TRUST_LINES = (
    "{t} has been clean so far; this team looks fine to me.",
    "I'm comfortable with {t} going on this quest.",
)
DOUBT_AT = 0.6
"""P(evil) above which a good player speaks against a player."""
CLEAR_AT = 0.15
"""P(evil) below which a good player vouches for a team member."""
EVIL_PASSES = 0.35
"""How likely a good player thinks an evil team member lets a quest succeed."""
VOTE_EVIDENCE = 3.0
"""How much likelier an evil player is to approve exactly the teams holding evil (and
reject the others) than a good player, in a good player's eyes."""
EVIL_BACKS_EVIL = 0.9
"""How often an evil player approves a team holding evil."""
EVIL_BACKS_CLEAN = 0.35
"""How often an evil player approves a team without evil (to blend in)."""
MERLIN_SUBTLETY = 0.4
"""How often Merlin speaks or votes on what he saw (never always, or he is found)."""


class AvalonHeuristic(SuspicionPolicy):
    """Avalon's scripted player.

    A good player weighs every possible evil team (all sets of the right size, at most 126)
    by what it has seen: its own sight (Merlin, Percival), quest results (a quest with f
    fail cards had at least f evil members; evil rarely lets a quest pass) and the public
    team votes (evil approves teams holding evil and rejects the others). Good leaders
    propose themselves plus the least likely evil players; good players approve only teams
    drawn from the players they trust most, and speak against likely evil team members
    (Merlin, who knows, only now and then). Evil players approve teams with evil on them,
    fail quests (one card when one is enough, and a lone evil player not always on the first
    quest), and the Assassin names the good player whose accusations, votes and proposals
    tracked the evil side best.
    """

    speech_purposes: ClassVar[frozenset[str]] = frozenset({"discussion"})

    def __init__(self, seat: str, seed: int, words: Words) -> None:
        super().__init__(seat, seed, words)
        self.players: tuple[str, ...] = ()
        """Every seat, in seat order."""
        self.hypotheses: dict[frozenset[str], float] = {}
        """Possible evil teams (without this seat) -> their weight (unnormalised)."""
        self._marginals: dict[bool, dict[str, float]] = {}
        self.seen_evil: frozenset[str] = frozenset()
        """Players Merlin saw as evil."""
        self.team: tuple[str, ...] = ()
        """The team last proposed."""
        self.leader = ""
        """Who proposed it."""
        self.rejected = 0
        """Teams rejected in a row so far."""
        self.spoke = False
        """Whether this seat has spoken yet (it claims a role in its first speech)."""
        self.votes_on: dict[str, list[tuple[tuple[str, ...], bool]]] = defaultdict(list)
        """Player -> (team, approved?) for each team vote they cast."""
        self.proposed: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        """Player -> the teams they proposed."""

    # --- bookkeeping -----------------------------------------------------------------

    def learn(self, event: Event) -> None:
        """Take in one event the seat saw, Avalon's kinds included."""
        super().learn(event)
        if isinstance(event, PhaseEvent) and event.phase == "setup":
            self._start(event.alive)
        elif isinstance(event, VisionEvent) and event.player == self.seat:
            self._saw(event)
        elif isinstance(event, ProposalEvent):
            self.team, self.leader = event.team, event.actor or ""
            self.proposed[self.leader].append(event.team)
        elif isinstance(event, TeamVoteEvent) and event.actor:
            self.votes_on[event.actor].append((self.team, event.approve))
            self._weigh_vote(event.actor, event.approve)
        elif isinstance(event, TeamVoteResultEvent):
            self.rejected = event.rejected_in_a_row
        elif isinstance(event, QuestResultEvent):
            self._weigh_quest(event)

    def _start(self, players: tuple[str, ...]) -> None:
        self.players = players
        others = [p for p in players if p != self.seat]
        evil = SIDES[len(players)][1]
        self.hypotheses = dict.fromkeys(map(frozenset, itertools.combinations(others, evil)), 1.0)

    def _saw(self, event: VisionEvent) -> None:
        seen = frozenset(event.seen)
        if event.sees == "evil":
            self.seen_evil = seen  # kept apart: Merlin hides what he knows
        elif event.sees == "merlin":
            self._reweigh(lambda h: 0.0 if h & seen else 1.0)
        else:
            self._reweigh(lambda h: 1.0 if len(h & seen) == 1 else 0.0)  # one is Morgana

    def _reweigh(self, likelihood: Callable[[frozenset[str]], float]) -> None:
        """Multiply each evil team's weight by ``likelihood`` (weights stay unnormalised;
        ``marginals`` normalises). An evil seat keeps no table: it knows."""
        if self.hidden:
            return
        weights = {h: w * likelihood(h) for h, w in self.hypotheses.items()}
        self.hypotheses = {h: w for h, w in weights.items() if w > 0}
        self._marginals.clear()

    def _weigh_vote(self, voter: str, approve: bool) -> None:
        team = frozenset(self.team)
        ratio = VOTE_EVIDENCE if approve else 1.0 / VOTE_EVIDENCE

        def likelihood(h: frozenset[str]) -> float:
            if voter not in h:
                return 1.0
            return ratio if team & h else 1.0 / ratio  # evil backs exactly the teams with evil

        self._reweigh(likelihood)

    def _weigh_quest(self, event: QuestResultEvent) -> None:
        team = frozenset(event.team)
        for p in event.team:
            self.heat[p] += float(event.fails)

        def likelihood(h: frozenset[str]) -> float:
            evil = len(team & h)
            if evil < event.fails:
                return 0.0  # good players cannot fail a quest
            return EVIL_PASSES if evil and not event.fails else 1.0

        self._reweigh(likelihood)

    def p_evil(self, player: str, sight: bool = True) -> float:
        """P(``player`` is evil) for a good seat; with ``sight``, Merlin's vision counts."""
        return self.marginals(sight).get(player, 0.0)

    def marginals(self, sight: bool = True) -> dict[str, float]:
        """P(evil) of every other player from the weighed evil teams (cached until the next
        update); with ``sight``, only the teams holding everyone Merlin saw."""
        cached = self._marginals.get(sight)
        if cached is not None:
            return cached
        pool = self.hypotheses
        if sight and self.seen_evil:
            pool = {h: w for h, w in pool.items() if self.seen_evil <= h}
        total = sum(pool.values()) or 1.0
        odds = dict.fromkeys(self.players, 0.0)
        for h, w in pool.items():
            for p in h:
                odds[p] += w / total
        self._marginals[sight] = odds
        return odds

    # --- choosing ----------------------------------------------------------------------

    def choose(self, observation: Observation, request: ActionRequest) -> Action:
        """Avalon's purposes first; speech and the P(evil) probe through the base class."""
        purpose, targets = request.purpose, request.targets
        if purpose == "proposal":
            return Propose(team=self.pick_team(targets, request.picks))
        if purpose == "team_vote":
            return TeamVote(approve=self.approve())
        if purpose == "quest":
            return QuestCard(card=self.card(observation))
        if purpose == "merlin_belief" and targets:
            return Belief(probs=self.merlin_beliefs(targets))
        if purpose == "assassinate" and targets:
            return Vote(target=self.merlin_guess(targets))
        return super().choose(observation, request)

    def trusted(self, sight: bool = True) -> list[str]:
        """This seat and the others least likely evil: as many as there are good players."""
        good = SIDES[len(self.players)][0]
        odds = self.marginals(sight)
        ranked = sorted(self.players, key=lambda p: (odds.get(p, 0.0), self.rng.random()))
        return ranked[:good]

    def pick_team(self, players: tuple[str, ...], size: int) -> tuple[str, ...]:
        """The leader's team: themself plus the least likely evil (for evil: the least
        pressed players outside the evil side, so the team looks clean)."""
        others = [p for p in players if p != self.seat]
        if self.hidden:
            others = [p for p in others if p not in self.allies] or others
            ranked = sorted(others, key=lambda p: (self.heat[p], self.rng.random()))
        else:
            ranked = sorted(others, key=lambda p: (self.p_evil(p), self.rng.random()))
        return (self.seat, *ranked[: size - 1])

    def approve(self) -> bool:
        """The team vote: good approves a team drawn from the players it trusts most; evil
        approves a team with evil on it, and rejects the last proposal before the fifth
        rejection."""
        if self.hidden:
            if self.rejected >= MAX_REJECTIONS - 1:
                return False
            evil_on = any(p == self.seat or p in self.allies for p in self.team)
            return self.rng.random() < (EVIL_BACKS_EVIL if evil_on else EVIL_BACKS_CLEAN)
        if self.leader == self.seat or self.rejected >= MAX_REJECTIONS - 1:
            return True
        # Merlin votes on what he saw only now and then: a perfect record would unmask him.
        sight = bool(self.seen_evil) and self.rng.random() < MERLIN_SUBTLETY
        trusted = self.trusted(sight)
        return all(p in trusted for p in self.team)

    def card(self, observation: Observation) -> str:
        """The quest card: success for good; evil fails once per quest (enough to fail it),
        and a lone evil player may pass the first quest to win trust."""
        if not self.hidden:
            return SUCCESS
        quest = observation.round
        if fails_needed(len(observation.players), quest) > 1:
            return FAIL
        evil_on = [p for p in self.team if p == self.seat or p in self.allies]
        if quest == 1 and len(evil_on) == 1 and self.rng.random() < 0.5:
            return SUCCESS
        return FAIL if evil_on[0] == self.seat else SUCCESS

    def discuss(self, request: ActionRequest) -> Speak:
        """Speech about the proposed team, with structured claims the metrics can use."""
        claims: list[Claim] = []
        if not self.spoke and self.role not in (MERLIN, PERCIVAL) and SERVANT in request.roles:
            claims.append(ClaimRole(role=SERVANT))  # a lie for an evil player
        self.spoke = True
        options = request.claim_targets
        if self.hidden:
            target = self.scapegoat(options)
            if target is not None and self.heat[target] > 0:
                return self._doubt(target, claims, ACCUSE_LINES)
            return Speak(text=speech(self.rng, None, CALM_LINES), claims=tuple(claims))
        return self._good_speech(options, claims)

    def _good_speech(self, options: tuple[str, ...], claims: list[Claim]) -> Speak:
        """Good speech: doubt a likely evil team member (or the likeliest evil player at the
        table), else vouch for a team member who looks clean. Merlin names what he saw only
        now and then, and never vouches for it."""
        members = tuple(p for p in self.team if p in options)
        seen = [p for p in members if p in self.seen_evil]
        if seen and self.rng.random() < MERLIN_SUBTLETY:
            return self._doubt(self.rng.choice(seen), claims)
        odds = {p: self.p_evil(p, sight=False) for p in options}
        doubted = [p for p in members if odds[p] > DOUBT_AT]
        if doubted:
            return self._doubt(max(doubted, key=lambda p: (odds[p], p)), claims)
        cleared = [p for p in members if odds[p] < CLEAR_AT and p not in self.seen_evil]
        if cleared:
            trusted = min(cleared, key=lambda p: (odds[p], p))
            claims.append(Defend(target=trusted))
            return Speak(text=speech(self.rng, trusted, TRUST_LINES), claims=tuple(claims))
        top = max(options, key=lambda p: (odds[p], p)) if options else None
        if top is not None and odds[top] > DOUBT_AT:
            return self._doubt(top, claims)
        return Speak(text=speech(self.rng, None, CALM_LINES), claims=tuple(claims))

    def _doubt(
        self, target: str, claims: list[Claim], lines: tuple[str, ...] = DOUBT_LINES
    ) -> Speak:
        claims.append(Accuse(target=target))
        return Speak(text=speech(self.rng, target, lines), claims=tuple(claims))

    def beliefs(self, players: tuple[str, ...]) -> dict[str, float]:
        """P(evil): a good seat's weighed evil teams (Merlin's sight included); an evil seat
        reports the truth it knows (its allies)."""
        if self.hidden:
            return super().beliefs(players)
        return {p: round(self.p_evil(p), 4) for p in players}

    def merlin_score(self, player: str) -> float:
        """How much ``player`` behaved like Merlin, to the evil side: accusing and rejecting
        the evil players this seat knows, defending and approving the others."""
        evil = self.allies | {self.seat}
        score = 0.0
        score += sum(player in self.accusers[e] for e in evil)
        score -= sum(player in self.defenders[e] for e in evil)
        for team, approved in self.votes_on[player]:
            dirty = any(p in evil for p in team)
            if dirty:
                score += -0.5 if approved else 0.5
            else:
                score += 0.2 if approved else -0.2
        for team in self.proposed[player]:
            score += 0.3 if not any(p in evil for p in team) else -0.3
        return score

    def merlin_beliefs(self, players: tuple[str, ...]) -> dict[str, float]:
        """P(Merlin) per player: a softmax of the Merlin scores."""
        weights = {p: math.exp(self.merlin_score(p)) for p in players}
        total = sum(weights.values())
        return {p: round(w / total, 4) for p, w in weights.items()}

    def merlin_guess(self, players: tuple[str, ...]) -> str:
        """The Assassin's pick: the player who best tracked the evil side."""
        return max(players, key=lambda p: (self.merlin_score(p), self.rng.random()))
