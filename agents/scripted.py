"""Scripted baselines: ``random`` (uniform over legal actions) and ``heuristic``.

Both are deterministic given the seat's seed. ``heuristic`` is each scenario's own policy,
registered in the entry-point group ``traitors.heuristics`` under the scenario's name;
``SuspicionPolicy`` is what they share (and what a scenario without one gets): suspicion
kept from claims, public votes, reveals and eliminations, speech from templates with
structured claims the metrics can use, beliefs from the suspicion.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from typing import ClassVar

from traitors.episode.policy import Decision, Observation, Policy, SeatContext
from traitors.game import registry
from traitors.game.actions import (
    Accuse,
    Action,
    ActionRequest,
    Belief,
    Claim,
    ClaimRole,
    Defend,
    Pass,
    Respond,
    Speak,
    Vote,
    action_class,
)
from traitors.game.events import (
    EliminationEvent,
    Event,
    RevealEvent,
    RoleEvent,
    SpeakEvent,
    VoteEvent,
)
from traitors.game.words import Words

PRIOR = 0.6
"""Upper bound of a heuristic player's random first impression of each player."""
HEARSAY = 0.2
"""Suspicion a heuristic player adds to a player for each accusation against them."""

ACCUSE_LINES = (
    "I have a bad feeling about {t}. {t}, explain yourself.",
    "Something about {t} doesn't add up. I don't trust {t}.",
    "I'm watching {t}. The way {t} voted last time worries me.",
    "My money is on {t}. Too quiet, too careful.",
)
DEFEND_LINES = (
    "I trust {t}; we've been on the same side all game.",
    "Leave {t} alone, I don't see it.",
)
CALM_LINES = (
    "I want us to think before we vote.",
    "I don't have a strong read yet. Let's hear everyone out.",
    "We need to stay calm and follow the votes.",
)
PLOT_LINES = (
    "Tonight we should take out {t}. They are getting too close.",
    "{t} is the biggest threat to us. Let's agree on {t}.",
)


def speech(rng: random.Random, target: str | None, lines: tuple[str, ...]) -> str:
    """One of ``lines``, naming ``target`` where it has a slot."""
    line = rng.choice(lines)
    return line.format(t=target) if target else line


class RandomPolicy:
    """Uniform over legal actions: a kind at random, then its arguments at random."""

    def __init__(self, seat: str, seed: int) -> None:
        self.seat = seat
        self.rng = random.Random(seed)

    @classmethod
    def create(cls, context: SeatContext) -> RandomPolicy:
        return cls(context.seat, context.seed)

    def reseed(self, seed: int) -> None:
        """Draw from a new stream from here on (a fork's continuation)."""
        self.rng = random.Random(seed)

    async def decide(self, observation: Observation, request: ActionRequest) -> Decision:
        return Decision(self.choose(request))

    def choose(self, request: ActionRequest) -> Action:
        rng = self.rng
        kinds = [
            k for k in request.kinds if k not in ("vote", "accuse", "defend") or request.targets
        ]
        kind = rng.choice(kinds) if kinds else "pass"
        if kind == "vote":
            return Vote(target=rng.choice(request.targets))
        if kind == "accuse":
            return Accuse(target=rng.choice(request.targets))
        if kind == "defend":
            return Defend(target=rng.choice(request.targets))
        if kind == "claim_role" and request.roles:
            return ClaimRole(role=rng.choice(request.roles))
        if kind == "speak":
            return Speak(text=speech(rng, None, CALM_LINES), claims=self._random_claims(request))
        if kind == "belief":
            return Belief(probs={t: round(rng.random(), 3) for t in request.targets})
        if kind == "respond":
            return Respond(accept=rng.random() < 0.5)
        if kind == "pass":
            return Pass()
        return self._scenario_kind(kind, request)

    def _scenario_kind(self, kind: str, request: ActionRequest) -> Action:
        """A random legal action of a scenario's own kind, or the request's default."""
        return action_class(kind).sample(request, self.rng) or request.default

    def _random_claims(self, request: ActionRequest) -> tuple[Claim, ...]:
        options: list[Claim] = [Accuse(target=t) for t in request.claim_targets]
        options += [Defend(target=t) for t in request.claim_targets]
        options += [ClaimRole(role=r) for r in request.roles]
        if not options or self.rng.random() < 0.3:
            return ()
        return (self.rng.choice(options),)


class ActiveRandomPolicy(RandomPolicy):
    """Uniform like ``random``, but never passes where it may vote or speak: a vote is a
    uniform pick among the targets (as Kaggle Game Arena's random agent plays)."""

    def choose(self, request: ActionRequest) -> Action:
        if "vote" in request.kinds and request.targets:
            return Vote(target=self.rng.choice(request.targets))
        if "speak" in request.kinds:
            text = speech(self.rng, None, CALM_LINES)
            return Speak(text=text, claims=self._random_claims(request))
        return super().choose(request)


class HeuristicPolicy:
    """The ``heuristic`` policy: the scenario's registered heuristic, else ``SuspicionPolicy``."""

    @classmethod
    def create(cls, context: SeatContext) -> Policy:
        name = context.rules.name
        try:
            policy_class = registry.lookup("heuristic", name)
        except registry.UnknownName:
            policy_class = SuspicionPolicy
        return policy_class.create(context)  # type: ignore[no-any-return]


class SuspicionPolicy:
    """Members of the uncovering side vote their top suspect; members of the hidden side
    blend in and steer suspicion onto the others.

    Everyone keeps a suspicion score per player from accusations, defences, public votes,
    reveals and eliminations. Hidden players claim an innocent role, accuse the innocent
    players the table already suspects, and vote for an ally only when that ally is doomed.
    Scenarios subclass it and handle their own purposes in ``choose``.
    """

    speech_purposes: ClassVar[frozenset[str]] = frozenset({"discussion"})
    """Request purposes answered with public speech (accusations, claims)."""
    public_votes: ClassVar[frozenset[str]] = frozenset()
    """Purposes of the public elimination vote's ballots (``banish``, ``exile``)."""
    hidden_kills: ClassVar[frozenset[str]] = frozenset()
    """Elimination causes that only befall players outside the hidden side."""
    plot_purposes: ClassVar[frozenset[str]] = frozenset()
    """Purposes of the hidden side's private talk before a kill (``conclave``)."""
    kill_votes: ClassVar[frozenset[str]] = frozenset()
    """Purposes of the hidden side's ballots on whom to kill (``murder_vote``)."""

    def __init__(self, seat: str, seed: int, words: Words) -> None:
        self.seat = seat
        self.rng = random.Random(seed)
        self.words = words
        self.hidden_roles = words.hidden_roles()
        self.suspicion: dict[str, float] = defaultdict(float)
        self.heat: dict[str, float] = defaultdict(float)
        """Public pressure on each player: accusations and votes received (what the hidden
        side rides)."""
        self.threat: dict[str, float] = defaultdict(float)
        """How much each player has pressed this player and its allies."""
        self.accusers: dict[str, set[str]] = defaultdict(set)
        self.defenders: dict[str, set[str]] = defaultdict(set)
        self.ballots: dict[str, list[str]] = defaultdict(list)
        self.round_accusations: dict[str, int] = defaultdict(int)
        self.known: dict[str, str] = {}
        """Player -> role the player learnt for sure."""
        self.allies: set[str] = set()
        self.role = ""
        self.round = 0
        self._cursor = 0

    @classmethod
    def create(cls, context: SeatContext) -> SuspicionPolicy:
        return cls(context.seat, context.seed, context.rules.words)

    def reseed(self, seed: int) -> None:
        """Draw from a new stream from here on (a fork's continuation)."""
        self.rng = random.Random(seed)

    @property
    def hidden(self) -> bool:
        """Whether this seat plays for the hidden side."""
        return self.role in self.hidden_roles

    # --- bookkeeping -----------------------------------------------------------------

    def _update(self, observation: Observation) -> None:
        if self._cursor == 0:
            # A private first impression of everyone, so players do not all think alike.
            for p in observation.players:
                self.suspicion[p] = self.rng.uniform(0.0, PRIOR)
        for event in observation.events[self._cursor :]:
            if isinstance(event, RoleEvent) and event.player == self.seat:
                self.role, self.allies = event.role, set(event.allies)
            self.learn(event)
        self._cursor = len(observation.events)

    def learn(self, event: Event) -> None:
        """Take in one event the seat saw."""
        if event.round != self.round:
            self.round = event.round
            self.round_accusations.clear()
        if isinstance(event, SpeakEvent) and event.actor:
            for claim in event.claims:
                if isinstance(claim, Accuse):
                    self._accused(event.actor, claim.target)
                elif isinstance(claim, Defend):
                    self.defenders[claim.target].add(event.actor)
                    self.suspicion[claim.target] -= 0.3
        elif isinstance(event, VoteEvent) and event.actor and event.target:
            if event.purpose in self.public_votes:
                self.ballots[event.actor].append(event.target)
                self.suspicion[event.target] += 0.3
                self.heat[event.target] += 1.0
                self._pressed(event.actor, event.target, 0.5)
        elif isinstance(event, RevealEvent):
            self._revealed(event.player, event.role)
        elif isinstance(event, EliminationEvent):
            if event.cause in self.hidden_kills:
                self._revealed(event.target, self.innocent_role())
            self.heat.pop(event.target, None)

    def innocent_role(self) -> str:
        """A role of the uncovering side (what a hidden player claims to be)."""
        return next(r for r in self.words.roles if r not in self.hidden_roles)

    def _accused(self, accuser: str, target: str) -> None:
        self.accusers[target].add(accuser)
        self.suspicion[target] += HEARSAY
        self.heat[target] += 1.0
        self.round_accusations[target] += 1
        self._pressed(accuser, target, 1.0)

    def _pressed(self, actor: str, target: str, weight: float) -> None:
        if target == self.seat or target in self.allies:
            self.threat[actor] += weight

    def _revealed(self, player: str, role: str) -> None:
        self.known[player] = role
        if role in self.hidden_roles:
            for friend in self.defenders[player]:
                self.suspicion[friend] += 1.0
            for accuser in self.accusers[player]:
                self.suspicion[accuser] -= 0.5
        else:
            for accuser in self.accusers[player]:
                self.suspicion[accuser] += 0.7
            for voter, targets in self.ballots.items():
                if targets and targets[-1] == player:
                    self.suspicion[voter] += 0.6
            # An innocent player's own suspicions were honest: weigh them a little.
            for target, accusers in self.accusers.items():
                if player in accusers:
                    self.suspicion[target] += 0.3

    # --- choosing ----------------------------------------------------------------------

    def best(self, options: tuple[str, ...], score: dict[str, float]) -> str:
        """Highest score; ties broken by a seeded coin (a tiny jitter)."""
        return max(options, key=lambda p: (score[p], self.rng.random()))

    def suspect(self, options: tuple[str, ...]) -> str:
        """The most suspicious player not known to be innocent."""
        unknown = tuple(p for p in options if self.known.get(p, "") not in self.innocent_roles())
        return self.best(unknown or options, self.suspicion)

    def innocent_roles(self) -> frozenset[str]:
        """Roles of the uncovering side."""
        return frozenset(self.words.roles) - self.hidden_roles

    def scapegoat(self, options: tuple[str, ...]) -> str | None:
        """The most pressed player outside this seat's side."""
        others = tuple(p for p in options if p not in self.allies)
        return self.best(others, self.heat) if others else None

    def victim(self, options: tuple[str, ...]) -> str:
        """The player pressing this seat's side hardest; every ally computes the same one."""
        return max(options, key=lambda p: (self.threat[p], p))

    def doomed_ally(self, options: tuple[str, ...], alive: int) -> str | None:
        """An ally so accused this round that voting for them costs nothing."""
        doomed = [a for a in options if a in self.allies and self.round_accusations[a] * 2 >= alive]
        return sorted(doomed)[0] if doomed else None

    async def decide(self, observation: Observation, request: ActionRequest) -> Decision:
        self._update(observation)
        return Decision(self.choose(observation, request))

    def choose(self, observation: Observation, request: ActionRequest) -> Action:
        """The action for ``request``; subclasses handle their scenario's purposes first."""
        if request.purpose in self.plot_purposes:
            return self.plot(observation)
        if request.purpose in self.kill_votes and request.targets:
            return Vote(target=self.victim(request.targets))
        if request.purpose in self.speech_purposes and "speak" in request.kinds:
            return self.discuss(request)
        if "belief" in request.kinds and request.targets:
            return Belief(probs=self.beliefs(request.targets))
        if "vote" in request.kinds and request.targets:
            return Vote(target=self.public_vote(observation, request.targets))
        return request.default

    def public_vote(self, observation: Observation, targets: tuple[str, ...]) -> str:
        """A ballot in the public elimination vote."""
        if not self.hidden:
            return self.suspect(targets)
        doomed = self.doomed_ally(targets, len(observation.alive))
        return doomed or self.scapegoat(targets) or self.rng.choice(targets)

    def discuss(self, request: ActionRequest) -> Speak:
        """Public speech: claim an innocent role and accuse the top suspect (or a scapegoat)."""
        options = request.claim_targets
        if self.hidden:
            target = self.scapegoat(options)
        else:
            target = self.suspect(options) if options else None
            if target is not None and self.suspicion[target] <= 0:
                target = None
        innocent = [r for r in request.roles if r not in self.hidden_roles][:1]
        claims: list[Claim] = [ClaimRole(role=innocent[0])] if innocent else []
        if target is None:
            return Speak(text=speech(self.rng, None, CALM_LINES), claims=tuple(claims))
        claims.append(Accuse(target=target))
        return Speak(text=speech(self.rng, target, ACCUSE_LINES), claims=tuple(claims))

    def plot(self, observation: Observation) -> Speak:
        """The hidden side's private talk: kill whoever presses it hardest."""
        victims = tuple(p for p in observation.alive if p != self.seat and p not in self.allies)
        target = self.victim(victims) if victims else None
        return Speak(text=speech(self.rng, target, PLOT_LINES if target else CALM_LINES))

    def beliefs(self, players: tuple[str, ...]) -> dict[str, float]:
        """P(hidden side) for each player: known roles exactly, else a logistic of suspicion."""
        probs = {}
        for p in players:
            if p in self.known:
                probs[p] = 1.0 if self.known[p] in self.hidden_roles else 0.0
            elif self.hidden:
                probs[p] = 1.0 if p in self.allies else 0.0
            else:
                probs[p] = round(1.0 / (1.0 + math.exp(-(self.suspicion[p] - 1.0))), 4)
        return probs
