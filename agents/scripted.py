"""Scripted baselines: ``random`` (uniform over legal actions) and ``heuristic``.

Both are deterministic given the seat's seed. Their speech comes from templates, so logs
read naturally and carry structured claims the metrics can use.
"""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict

from traitors.actions import (
    Accuse,
    Action,
    ActionRequest,
    Belief,
    Bid,
    Claim,
    ClaimRole,
    Defend,
    Pass,
    Purchase,
    Respond,
    Speak,
    Vote,
)
from traitors.events import (
    BanishEvent,
    Event,
    MurderEvent,
    RevealEvent,
    SpeakEvent,
    VoteEvent,
)
from traitors.policy import Decision, Observation, SeatContext

TRAITOR = "traitor"
FAITHFUL = "faithful"
DECEIVERS = frozenset({"traitor", "werewolf"})
"""Roles that hide among the others and know their allies."""
INNOCENT_CLAIMS = ("faithful", "villager")
"""Roles a player claims to look innocent, in order of preference."""
PRIOR = 0.6
"""Upper bound of a heuristic faithful's random first impression of each player."""
HEARSAY = 0.2
"""Suspicion a heuristic faithful adds to a player for each accusation against them."""

ACCUSE_LINES = (
    "I have a bad feeling about {t}. {t}, explain yourself.",
    "Something about {t} doesn't add up. I think {t} is a traitor.",
    "I'm watching {t}. The way {t} voted last time worries me.",
    "My money is on {t}. Too quiet, too careful.",
)
DEFEND_LINES = (
    "I trust {t}; we've been on the same side all game.",
    "Leave {t} alone, I don't see it.",
)
CALM_LINES = (
    "I'm faithful, and I want us to think before we vote.",
    "I don't have a strong read yet. Let's hear everyone out.",
    "We need to stay calm and follow the votes.",
)
CONCLAVE_LINES = (
    "Tonight we should take out {t}. They are getting too close.",
    "{t} is the biggest threat to us. Let's agree on {t}.",
)


def _speech(rng: random.Random, target: str | None, lines: tuple[str, ...]) -> str:
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

    async def decide(self, observation: Observation, request: ActionRequest) -> Decision:
        return Decision(self.choose(request))

    def choose(self, request: ActionRequest) -> Action:
        rng = self.rng
        kinds = [
            k for k in request.kinds if k not in ("vote", "accuse", "defend") or request.targets
        ]
        kinds = [k for k in kinds if k != "purchase" or request.items]
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
            return Speak(text=_speech(rng, None, CALM_LINES), claims=self._random_claims(request))
        if kind == "belief":
            return Belief(probs={t: round(rng.random(), 3) for t in request.targets})
        if kind == "bid":
            return Bid(amount=rng.randint(0, request.max_bid))
        if kind == "purchase":
            return Purchase(item=rng.choice(request.items), explanation="A random pick.")
        if kind == "respond":
            return Respond(accept=rng.random() < 0.5)
        return Pass()

    def _random_claims(self, request: ActionRequest) -> tuple[Claim, ...]:
        options: list[Claim] = [Accuse(target=t) for t in request.claim_targets]
        options += [Defend(target=t) for t in request.claim_targets]
        options += [ClaimRole(role=r) for r in request.roles]
        if not options or self.rng.random() < 0.3:
            return ()
        return (self.rng.choice(options),)


class HeuristicPolicy:
    """Faithful vote their top suspect; traitors blend in and steer suspicion onto faithful.

    Faithful keep a suspicion score per player from votes, accusations, defences, reveals
    and murders. Traitors claim to be faithful, accuse the faithful the table already
    suspects, and vote for a fellow traitor only when that traitor is already doomed.
    """

    def __init__(self, seat: str, seed: int) -> None:
        self.seat = seat
        self.rng = random.Random(seed)
        self.suspicion: dict[str, float] = defaultdict(float)
        self.heat: dict[str, float] = defaultdict(float)
        """Public pressure on each player: accusations and votes received (what traitors ride)."""
        self.threat: dict[str, float] = defaultdict(float)
        """How much each player has pressed the traitors (for a traitor's murder choice)."""
        self.accusers: dict[str, set[str]] = defaultdict(set)
        self.defenders: dict[str, set[str]] = defaultdict(set)
        self.ballots: dict[str, list[str]] = defaultdict(list)
        self.round_accusations: dict[str, int] = defaultdict(int)
        self.known: dict[str, str] = {}
        self.allies: set[str] = set()
        self.role = FAITHFUL
        self.round = 0
        self._cursor = 0

    @classmethod
    def create(cls, context: SeatContext) -> HeuristicPolicy:
        return cls(context.seat, context.seed)

    # --- bookkeeping -----------------------------------------------------------------

    def _update(self, observation: Observation) -> None:
        if self._cursor == 0:
            # A private first impression of everyone, so faithful do not all think alike.
            for p in observation.players:
                self.suspicion[p] = self.rng.uniform(0.0, PRIOR)
        role_event = observation.role_event()
        if role_event is not None:
            self.role = role_event.role
            self.allies = set(role_event.allies)
        for event in observation.events[self._cursor :]:
            self._learn(event)
        self._cursor = len(observation.events)

    def _learn(self, event: Event) -> None:
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
            if event.purpose == "banish":
                self.ballots[event.actor].append(event.target)
                self.suspicion[event.target] += 0.3
                self.heat[event.target] += 1.0
                self._pressed(event.actor, event.target, 0.5)
        elif isinstance(event, RevealEvent):
            self._revealed(event.player, event.role)
        elif isinstance(event, MurderEvent):
            self._revealed(event.target, FAITHFUL)
        elif isinstance(event, BanishEvent):
            self.heat.pop(event.target, None)

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
        if role in DECEIVERS:
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
            # A faithful's own suspicions were honest: weigh them a little.
            for target, accusers in self.accusers.items():
                if player in accusers:
                    self.suspicion[target] += 0.3

    # --- choosing ----------------------------------------------------------------------

    def _best(self, options: tuple[str, ...], score: dict[str, float]) -> str:
        """Highest score; ties broken by a seeded coin (a tiny jitter)."""
        return max(options, key=lambda p: (score[p], self.rng.random()))

    def _suspect(self, options: tuple[str, ...]) -> str:
        unknown = tuple(p for p in options if self.known.get(p) != FAITHFUL)
        return self._best(unknown or options, self.suspicion)

    def _scapegoat(self, options: tuple[str, ...]) -> str | None:
        faithful = tuple(p for p in options if p not in self.allies)
        return self._best(faithful, self.heat) if faithful else None

    def _victim(self, options: tuple[str, ...]) -> str:
        """The faithful pressing the traitors hardest; every traitor computes the same one."""
        return max(options, key=lambda p: (self.threat[p], p))

    def _doomed_ally(self, options: tuple[str, ...], alive: int) -> str | None:
        doomed = [a for a in options if a in self.allies and self.round_accusations[a] * 2 >= alive]
        return sorted(doomed)[0] if doomed else None

    async def decide(self, observation: Observation, request: ActionRequest) -> Decision:
        self._update(observation)
        return Decision(self._choose(observation, request))

    def _choose(self, observation: Observation, request: ActionRequest) -> Action:
        purpose = request.purpose
        traitor = self.role in DECEIVERS
        if purpose == "discussion":
            return self._discuss(request, traitor)
        if purpose == "conclave":
            victims = tuple(p for p in observation.alive if p != self.seat and p not in self.allies)
            target = self._victim(victims) if victims else None
            return Speak(text=_speech(self.rng, target, CONCLAVE_LINES if target else CALM_LINES))
        if purpose == "banish_vote" and request.targets:
            if not traitor:
                return Vote(target=self._suspect(request.targets))
            doomed = self._doomed_ally(request.targets, len(observation.alive))
            target = doomed or self._scapegoat(request.targets) or self.rng.choice(request.targets)
            return Vote(target=target)
        if purpose == "murder_vote" and request.targets:
            return Vote(target=self._victim(request.targets))
        if purpose == "recruit_vote" and request.targets:
            return Vote(target=min(request.targets, key=lambda p: (self.heat[p], p)))
        if purpose == "recruit_response":
            return Respond(accept=self.rng.random() < 0.5)
        if purpose == "protect" and request.targets:
            choice = self.seat if self.seat in request.targets else self._victim(request.targets)
            return Vote(target=choice)
        if purpose == "investigate" and request.targets:
            unknown = tuple(p for p in request.targets if p not in self.known)
            return Vote(target=self._suspect(unknown or request.targets))
        if purpose == "bid":
            pressed = self.round_accusations[self.seat] > 0
            return Bid(amount=request.max_bid if pressed else self.rng.randint(0, 2))
        if purpose == "question":
            asked = any(e.actor == self.seat and e.phase == "questions" for e in observation.events)
            return Pass() if asked else Speak(text="Which option fits what I asked for best?")
        if purpose == "answer":
            return Speak(text="I will pick what matches your brief and your budget.")
        if purpose == "purchase" and request.items:
            item = self._closest_item(observation, request)
            return Purchase(
                item=item, explanation=f"I bought [{item}]: it best matches your request."
            )
        if purpose == "belief" and request.targets:
            return Belief(probs=self.beliefs(request.targets))
        return request.default

    def _closest_item(self, observation: Observation, request: ActionRequest) -> str:
        """A loyal assistant: the item whose catalogue words best match the customer's words."""
        wishes = " ".join(
            e.text.lower()
            for e in observation.events
            if isinstance(e, SpeakEvent) and e.phase in ("customer_brief", "questions")
        )
        words = {w.strip(".,;:$") for w in wishes.split() if len(w) > 3}
        entries = dict(re.findall(r"\[(\w+)\] ([^;$]+)", request.prompt))

        def score(item: str) -> int:
            name = entries.get(item, item).lower()
            return sum(1 for word in words if word in name)

        return max(request.items, key=lambda item: (score(item), -request.items.index(item)))

    def _discuss(self, request: ActionRequest, traitor: bool) -> Speak:
        options = request.claim_targets
        if traitor:
            target = self._scapegoat(options)
        else:
            target = self._suspect(options) if options else None
            if target is not None and self.suspicion[target] <= 0:
                target = None
        innocent = [r for r in INNOCENT_CLAIMS if r in request.roles]
        claims: list[Claim] = [ClaimRole(role=innocent[0])] if innocent else []
        if target is None:
            return Speak(text=_speech(self.rng, None, CALM_LINES), claims=tuple(claims))
        claims.append(Accuse(target=target))
        return Speak(text=_speech(self.rng, target, ACCUSE_LINES), claims=tuple(claims))

    def beliefs(self, players: tuple[str, ...]) -> dict[str, float]:
        """P(traitor) for each player: known roles exactly, else a logistic of suspicion."""
        probs = {}
        for p in players:
            if p in self.known:
                probs[p] = 1.0 if self.known[p] in DECEIVERS else 0.0
            elif self.role in DECEIVERS:
                probs[p] = 1.0 if p in self.allies else 0.0
            else:
                probs[p] = round(1.0 / (1.0 + math.exp(-(self.suspicion[p] - 1.0))), 4)
        return probs
