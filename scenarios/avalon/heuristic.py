"""Avalon's scripted player."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable
from typing import ClassVar

from agents.scripted import ACCUSE_LINES, CALM_LINES, SuspicionPolicy, speech
from scenarios.avalon.kinds import (
    ProposalEvent,
    Propose,
    QuestCard,
    QuestResultEvent,
    TeamVote,
    TeamVoteEvent,
    TeamVoteResultEvent,
    VisionEvent,
)
from scenarios.avalon.table import (
    FAIL,
    MAX_REJECTIONS,
    MERLIN,
    PERCIVAL,
    SERVANT,
    SIDES,
    SUCCESS,
    fails_needed,
)
from traitors.episode.policy import Observation
from traitors.game.actions import (
    Accuse,
    Action,
    ActionRequest,
    Belief,
    Claim,
    ClaimRole,
    Defend,
    Speak,
    Vote,
)
from traitors.game.events import Event, PhaseEvent
from traitors.game.words import Words

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
