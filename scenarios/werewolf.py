"""Werewolf, with the rules of Werewolf Arena (Bailis et al. 2024).

Night: the werewolves talk in their private channel and vote a victim; the doctor
protects one player; the seer learns one player's role privately. Day: the death (if the
doctor did not save the victim) is announced, then up to ``debate_turns`` turns of debate
chosen by bidding (every living player privately bids 0-4; the highest bid speaks; ties
are a seeded pick), then an exile vote that needs more than half of the votes cast.
Werewolves win at parity; the village wins when no werewolf lives.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from agents.scripted import SuspicionPolicy
from scenarios.common import (
    GAME_OVER,
    Phase,
    PhaseTable,
    TableState,
    TeamRules,
    automatic,
    ballots,
    count_votes,
    eliminate,
    leaders,
    own_events,
    probe_phase,
    revealed,
    settle,
    spoken,
    stamp,
    take_turn,
    talk,
    tally,
    together,
    turn,
    vote_events,
    vote_request,
    vote_result,
)
from traitors.episode.policy import Observation
from traitors.game.actions import (
    Action,
    ActionBase,
    ActionRequest,
    Vote,
    reply_field,
    require,
)
from traitors.game.events import (
    PUBLIC,
    Channel,
    EliminationEvent,
    Event,
    EventBase,
    GodOnly,
    Private,
    RevealEvent,
    RoleEvent,
    Visibility,
    game,
)
from traitors.game.rules import Outcome, RulesConfig, Step
from traitors.game.seeds import derive_rng
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


def highest_bidder(bids: Mapping[str, int], seed: int, *labels: object) -> str:
    """The speaker with the highest bid (Werewolf Arena's turn-taking); ties broken by a
    seeded pick among the tied."""
    if not bids:
        raise ValueError("no bids")
    best = max(bids.values())
    tied = sorted(p for p, amount in bids.items() if amount == best)
    return tied[0] if len(tied) == 1 else derive_rng(seed, "bid", *labels).choice(tied)


class Bid(ActionBase):
    """Bid for the next turn to speak."""

    kind: Literal["bid"] = "bid"
    amount: int
    """Bid size: 0 observe ... the largest, addressed directly and must respond."""

    def check(self, request: ActionRequest) -> None:
        require(0 <= self.amount <= request.max_amount, f"bid must be 0..{request.max_amount}")

    @classmethod
    def reply_fields(cls, request: ActionRequest) -> dict[str, Any]:
        return {"bid": {"type": "integer", "minimum": 0, "maximum": request.max_amount}}

    @classmethod
    def from_reply(cls, data: dict[str, Any], request: ActionRequest) -> dict[str, Any]:
        return {"kind": "bid", "amount": reply_field(data, "bid")}

    @classmethod
    def sample(cls, request: ActionRequest, rng: random.Random) -> Bid:
        return Bid(amount=rng.randint(0, request.max_amount))

    @classmethod
    def catalogue(cls, rules: Any, seats: Sequence[str]) -> list[tuple[str, ActionBase]]:
        return [(f"bid {b}", Bid(amount=b)) for b in range(rules.config.max_bid + 1)]


class BidEvent(EventBase):
    """A player's private bid for the next speaking turn."""

    kind: Literal["bid"] = "bid"
    amount: int
    """Bid size; the highest bid speaks next."""

    def prompt_text(self, viewer: str, words: Words) -> None:
        return None  # the bid's winner shows in who speaks next

    def line_text(self, words: Words) -> str:
        return f"{self.actor} bids {self.amount}"


class TeamRevealEvent(EventBase):
    """A player's team (not their role) was revealed: to all on an exile or a death when the
    rules reveal only teams, or to the seer who learns only teams."""

    kind: Literal["team_reveal"] = "team_reveal"
    player: str
    """Player whose team is revealed."""
    team: str
    """The revealed team (a faction's name)."""

    def prompt_text(self, viewer: str, words: Words) -> str:
        return game(f"{self.player} is on the {self.team}' side.")

    def line_text(self, words: Words) -> str:
        return f"** {self.player} is on the {self.team}' side"


class SaveEvent(EventBase):
    """The doctor's protection stopped the werewolves' attack (told to the doctor alone)."""

    kind: Literal["save"] = "save"
    target: str
    """The player who was attacked and saved."""

    def prompt_text(self, viewer: str, words: Words) -> str:
        return game(f"Your protection saved {self.target} from the werewolves tonight.")

    def line_text(self, words: Words) -> str:
        return f"** the doctor saved {self.target}"


THREAT_LEVELS = ("SAFE", "UNEASY", "DANGER")
"""How endangered a player says they feel with each action (Kaggle Game Arena's records)."""


class ThreatEvent(EventBase):
    """How endangered a player privately felt when acting (kept from imported games)."""

    kind: Literal["threat"] = "threat"
    level: str
    """The perceived threat level, e.g. SAFE, UNEASY, DANGER."""

    def prompt_text(self, viewer: str, words: Words) -> None:
        return None  # a private feeling, never shown in a prompt

    def line_text(self, words: Words) -> str:
        return f"{self.actor} feels {self.level}"


Order = Literal["fixed", "rotate", "random"]
"""Who goes first in a round-robin order: the first living seat in seating order (fixed),
the seat after last time's first (rotate), or a seeded random seat (random)."""
Reveal = Literal["nothing", "team", "role"]
"""What an exile or a night death shows everyone about the player."""


class WerewolfConfig(RulesConfig):
    """Rule options of Werewolf; defaults follow Werewolf Arena, and the ``werewolf_kaggle_*``
    presets set them to Kaggle Game Arena's rule configs."""

    n_players: int = Field(8, ge=4, le=20)
    """Players at the table."""
    n_werewolves: int = Field(2, ge=1)
    """Werewolves among them; they know each other."""
    seer: bool = True
    """Whether one villager is a seer, who learns one player's role each night."""
    seer_learns: Literal["role", "team"] = "role"
    """What the seer learns of the player they look at: the role, or only the team."""
    doctor: bool = True
    """Whether one villager is a doctor, who protects one player each night."""
    doctor_self_protect: bool = True
    """Whether the doctor may protect themself."""
    doctor_repeat: bool = True
    """Whether the doctor may protect the same player on consecutive nights."""
    doctor_learns_save: bool = False
    """Whether the doctor is told when their protection stopped the attack."""
    werewolf_talk: bool = True
    """Whether the werewolves speak (each once) in their channel before choosing a victim."""
    wolf_voting: Literal["simultaneous", "sequential"] = "simultaneous"
    """How the werewolves vote their victim: all at once, or one by one (each seeing the
    votes before theirs), in an order set by ``first_wolf``."""
    first_wolf: Order = "rotate"
    """Who votes first among the werewolves when ``wolf_voting`` is sequential."""
    kill_tie: Literal["random", "nobody"] = "random"
    """A werewolf vote without a single leader: a random pick among the leaders (among all
    villagers when nobody voted), or no attack that night."""
    discussion: Literal["bidding", "round_robin"] = "bidding"
    """How the day's speakers are chosen: by private bids (Werewolf Arena), or every living
    player in seat order, ``discussion_rounds`` times (Kaggle's round-robin)."""
    debate_turns: int = Field(8, ge=0)
    """Debate turns per day, each won by the highest bid (bidding discussion)."""
    max_bid: int = Field(4, ge=1)
    """Largest bid: 0 observe ... 4 addressed directly, must respond."""
    discussion_rounds: int = Field(2, ge=0)
    """Times every living player speaks each day (round-robin discussion)."""
    first_speaker: Order = "rotate"
    """Who speaks first each day in a round-robin discussion."""
    voting: Literal["simultaneous", "sequential"] = "simultaneous"
    """How the exile vote is cast: all at once, or one by one in seat order from
    ``first_voter``, each voter seeing the votes before theirs."""
    first_voter: Order = "rotate"
    """Who votes first in a sequential exile vote."""
    exile_rule: Literal["majority", "plurality"] = "majority"
    """majority: exile needs more than half of the votes cast; plurality: most votes."""
    exile_tie: Literal["nobody", "random"] = "nobody"
    """A plurality vote without a single leader: nobody is exiled, or a random pick among the
    leaders (among every living player when nobody voted)."""
    exile_reveals: Reveal = "nothing"
    """What the exiled player's exile shows: nothing, their team, or their role."""
    death_reveals: Reveal = "nothing"
    """What a night death shows: nothing, the victim's team, or their role."""
    belief_probe: bool = False
    """After the debate, every living player privately reports P(werewolf) for each other
    (not in Werewolf Arena; for the analysis' inference metrics)."""
    max_rounds: int = Field(10, ge=1)
    """Rounds (night + day) after which the game is a draw."""
    max_speech_chars: int = Field(600, ge=1)
    """Longest legal speech."""

    later_options: ClassVar[Mapping[str, Any]] = {
        "seer_learns": "role",
        "doctor_repeat": True,
        "doctor_learns_save": False,
        "wolf_voting": "simultaneous",
        "first_wolf": "rotate",
        "kill_tie": "random",
        "discussion": "bidding",
        "discussion_rounds": 2,
        "first_speaker": "rotate",
        "voting": "simultaneous",
        "first_voter": "rotate",
        "exile_tie": "nobody",
        "death_reveals": "nothing",
    }

    def id_options(self) -> dict[str, Any]:
        """As before these options: ``exile_reveals`` nothing/role hashed as the boolean
        ``reveal_on_exile`` it replaced."""
        options = super().id_options()
        if options["exile_reveals"] in ("nothing", "role"):
            options["reveal_on_exile"] = options.pop("exile_reveals") == "role"
        return options

    @model_validator(mode="before")
    @classmethod
    def _legacy_reveal(cls, data: Any) -> Any:
        """``reveal_on_exile: true|false`` (before ``exile_reveals``) still reads."""
        if isinstance(data, dict) and "reveal_on_exile" in data:
            data = dict(data)
            legacy = data.pop("reveal_on_exile")
            if "exile_reveals" in data:
                raise ValueError("give exile_reveals or reveal_on_exile, not both")
            data["exile_reveals"] = "role" if legacy else "nothing"
        return data

    @model_validator(mode="after")
    def _tie_rule_fits(self) -> WerewolfConfig:
        if self.exile_rule == "majority" and self.exile_tie == "random":
            raise ValueError(
                "exile_tie: random needs exile_rule: plurality (a majority has no tie)"
            )
        return self

    @model_validator(mode="after")
    def _roles_fit(self) -> WerewolfConfig:
        specials = self.n_werewolves + self.seer + self.doctor
        if specials > self.n_players or self.n_werewolves * 2 >= self.n_players:
            raise ValueError(
                f"{self.n_werewolves} werewolves (plus seer/doctor) do not fit {self.n_players} "
                "players; werewolves must be fewer than half"
            )
        return self


@dataclass(frozen=True, kw_only=True)
class WerewolfState(TableState):
    """The full state of a game; replaced, never mutated."""

    turn: int = 0
    """Debate turns held today."""
    speaker: str | None = None
    """Winner of the last bid, about to speak."""
    cast: tuple[tuple[str, str | None], ...] = ()
    """Votes cast so far in a sequential vote (voter, target or None), in order."""
    protected: str | None = None
    """Whom the doctor protected last night (None: nobody)."""
    cursors: Mapping[str, int] = field(default_factory=dict)
    """Order name -> the seat after the last first one (``rotate`` orders)."""

    def village(self) -> tuple[str, ...]:
        """Living players who are not werewolves."""
        return tuple(p for p in self.alive if self.roles[p] != WEREWOLF)


def seat_order(
    state: WerewolfState, among: Sequence[str], strategy: Order, name: str
) -> tuple[tuple[str, ...], WerewolfState]:
    """``among`` in seat order from a first seat chosen by ``strategy`` (Kaggle's pivot: the
    first seat, a seeded random seat, or the seat after last time's first; dead seats are
    passed over), and the state with the ``rotate`` cursor moved on."""
    seats, members = state.players, set(among)
    n = len(seats)
    if strategy == "fixed":
        pivot = 0
    elif strategy == "random":
        pivot = derive_rng(state.seed, "order", name, state.round).randrange(n)
    else:
        start = state.cursors.get(name, 0)
        pivot = next((i % n for i in range(start, start + n) if seats[i % n] in members), 0)
        state = replace(state, cursors={**state.cursors, name: (pivot + 1) % n})
    order = tuple(seats[(pivot + i) % n] for i in range(n) if seats[(pivot + i) % n] in members)
    return order, state


def standing(cast: Sequence[tuple[str, str | None]]) -> str:
    """The votes so far of a sequential vote, for the next voter's prompt."""
    counts = tally(dict(cast))
    if not counts:
        return "No votes yet."
    return "Votes so far: " + ", ".join(f"{t} {n}" for t, n in counts.items()) + "."


def still_to_vote(state: WerewolfState, order: Sequence[str]) -> tuple[str, ...]:
    """The voters of a sequential vote's ``order`` who have not voted yet."""
    done = {voter for voter, _ in state.cast}
    return tuple(v for v in order if v not in done)


def cast_vote(
    state: WerewolfState,
    actions: Mapping[str, Action],
    purpose: str,
    events: list[Event],
    visibility: Visibility = PUBLIC,
) -> WerewolfState:
    """The one voter of a sequential vote's step votes, seen at once."""
    vote = ballots(actions)
    events += vote_events(state, vote, purpose, visibility)
    return replace(state, cast=(*state.cast, *vote.items()))


class Werewolf(TeamRules[WerewolfState, WerewolfConfig]):
    """Rules of Werewolf Arena."""

    name: ClassVar[str] = "werewolf"
    config_model: ClassVar[type[RulesConfig]] = WerewolfConfig
    roles: ClassVar[tuple[str, ...]] = (VILLAGER, SEER, DOCTOR, WEREWOLF)
    words: ClassVar[Words] = WORDS
    event_kinds: ClassVar[tuple[type[EventBase], ...]] = (
        BidEvent,
        TeamRevealEvent,
        SaveEvent,
        ThreatEvent,
    )
    action_kinds: ClassVar[tuple[type[ActionBase], ...]] = (Bid,)
    channel: ClassVar[str] = CHANNEL
    endings: ClassVar[tuple[str, str]] = (
        "every werewolf is gone",
        "werewolves equal or outnumber the village",
    )

    def seat_count(self) -> int:
        return self.config.n_players

    def describe(self) -> str:
        c = self.config
        specials = [r for r, on in ((SEER, c.seer), (DOCTOR, c.doctor)) if on]
        return "\n".join(
            [
                f"You are playing Werewolf with {c.n_players} players: {c.n_werewolves} "
                f"werewolves who know each other; the others are villagers"
                + (f", among them a {' and a '.join(specials)}." if specials else "."),
                "Each night the werewolves secretly choose a victim; the doctor protects one "
                "player (a protected victim survives); the seer privately learns one player's "
                f"{c.seer_learns}.",
                *self._variant_rules(),
                "Each day the death is announced, then players debate: "
                + self._discussion_text()
                + " Then everyone votes to exile one player"
                + self._exile_text(),
                "The village wins when every werewolf is gone; the werewolves win when they "
                f"equal or outnumber the others. After {c.max_rounds} rounds it is a draw.",
            ]
        )

    def _variant_rules(self) -> list[str]:
        """The rules text of the options Werewolf Arena does not have (none at the defaults)."""
        c, lines = self.config, []
        if c.wolf_voting == "sequential":
            lines.append(
                "The werewolves vote their victim one by one, each seeing the votes before."
            )
        if c.kill_tie == "nobody":
            lines.append("If the werewolves' votes tie, nobody is attacked that night.")
        if c.doctor and not c.doctor_self_protect:
            lines.append("The doctor may not protect themself.")
        if c.doctor and not c.doctor_repeat:
            lines.append("The doctor may not protect the same player two nights in a row.")
        for what, level in (("An exile", c.exile_reveals), ("A death", c.death_reveals)):
            if level != "nothing":
                lines.append(f"{what} reveals the player's {level}.")
        return lines

    def _discussion_text(self) -> str:
        c = self.config
        if c.discussion == "round_robin":
            first = {"fixed": "the first seat", "rotate": "a seat that moves on each day"}
            return (
                f"every living player speaks in seat order, {c.discussion_rounds} times, "
                f"starting from {first.get(c.first_speaker, 'a random seat')}."
            )
        return (
            f"before each turn everyone bids 0-{c.max_bid} to speak (higher = more urgent); "
            "the highest bid speaks."
        )

    def _exile_text(self) -> str:
        c = self.config
        order = " one by one, each seeing the votes before" if c.voting == "sequential" else ""
        if c.exile_rule == "majority":
            return f"{order}, which needs more than half of the votes."
        tie = "a tie exiles nobody" if c.exile_tie == "nobody" else "a tie is broken at random"
        return f"{order}; the most votes exile, and {tie}."

    # --- setup -----------------------------------------------------------------------

    def initial_state(self, players: Sequence[str], rng: random.Random) -> WerewolfState:
        players = tuple(players)
        dealt = list(players)
        rng.shuffle(dealt)
        c = self.config
        specials = [WEREWOLF] * c.n_werewolves + [SEER] * c.seer + [DOCTOR] * c.doctor
        roles = {p: (specials[i] if i < len(specials) else VILLAGER) for i, p in enumerate(dealt)}
        return self.seat(WerewolfState, players, roles, rng)

    # --- the night -----------------------------------------------------------------------

    def _begin(
        self, state: WerewolfState, actions: Mapping[str, Action], events: list[Event]
    ) -> WerewolfState:
        return self._start_night(replace(state, round=1), events)

    def _start_night(self, state: WerewolfState, events: list[Event]) -> WerewolfState:
        if self.config.werewolf_talk:
            return self.goto(state, "night_talk", events, queue=state.living(WEREWOLF))
        return self._after_night_talk(state, events)

    def _after_night_talk(self, state: WerewolfState, events: list[Event]) -> WerewolfState:
        sequential = self.config.wolf_voting == "sequential"
        return self.goto(state, "wolf_vote" if sequential else "night", events)

    def _speech(self, speaker: str, purpose: str, others: tuple[str, ...]) -> ActionRequest:
        night = purpose == "night_talk"
        prompt = (
            "Night: agree privately with the other werewolves whom to kill."
            if night
            else "Debate: speak to everyone. You may accuse, defend or claim a role."
        )
        roles = () if night else self.roles
        return talk(speaker, purpose, prompt, self.config.max_speech_chars, others, roles)

    def _plan_night_talk(self, state: WerewolfState) -> Step:
        return turn(state, self._speech(state.queue[0], "night_talk", ()))

    def _apply_night_talk(
        self, state: WerewolfState, actions: Mapping[str, Action], events: list[Event]
    ) -> WerewolfState:
        state = take_turn(state, actions, events, WOLVES)
        return state if state.queue else self._after_night_talk(state, events)

    def _target(
        self, actor: str, purpose: str, prompt: str, pool: Sequence[str], allow_self: bool = False
    ) -> ActionRequest:
        return vote_request(actor, purpose, prompt, (p for p in pool if allow_self or p != actor))

    def _kill_request(self, wolf: str, state: WerewolfState, cast: str = "") -> ActionRequest:
        return self._target(wolf, "kill_vote", f"Vote for tonight's victim.{cast}", state.village())

    def _wolf_order(self, state: WerewolfState) -> tuple[tuple[str, ...], WerewolfState]:
        return seat_order(state, state.living(WEREWOLF), self.config.first_wolf, KILL)

    def _plan_wolf_vote(self, state: WerewolfState) -> Step:
        wolf = still_to_vote(state, self._wolf_order(state)[0])[0]
        return turn(state, self._kill_request(wolf, state, " " + standing(state.cast)))

    def _apply_wolf_vote(
        self, state: WerewolfState, actions: Mapping[str, Action], events: list[Event]
    ) -> WerewolfState:
        state = cast_vote(state, actions, KILL, events, WOLVES)
        order, moved = self._wolf_order(state)
        return self.goto(moved, "night", events) if not still_to_vote(state, order) else state

    def _plan_night(self, state: WerewolfState) -> Step:
        c = self.config
        requests = {}
        if c.wolf_voting == "simultaneous":
            requests = {w: self._kill_request(w, state) for w in state.living(WEREWOLF)}
        for doctor in state.living(DOCTOR):
            barred = () if c.doctor_repeat or state.protected is None else (state.protected,)
            requests[doctor] = self._target(
                doctor,
                "protect",
                "Choose a player to protect tonight.",
                [p for p in state.alive if p not in barred],
                allow_self=c.doctor_self_protect,
            )
        for seer in state.living(SEER):
            requests[seer] = self._target(
                seer,
                "investigate",
                f"Choose a player whose {c.seer_learns} you learn.",
                state.alive,
            )
        return together(state, dict(sorted(requests.items())))

    def _attack(
        self, state: WerewolfState, actions: Mapping[str, Action], events: list[Event]
    ) -> str | None:
        """The werewolves' votes counted (logged now if simultaneous) and their victim."""
        if self.config.wolf_voting == "sequential":
            counts = tally(dict(state.cast))
            top = leaders(counts)
        else:
            wolves = state.living(WEREWOLF)
            _, counts, top = count_votes(state, actions, KILL, events, WOLVES, wolves)
        if self.config.kill_tie == "nobody":
            victim = top[0] if len(top) == 1 else None
            events.append(vote_result(state, KILL, counts, victim, WOLVES, tied=top[1:] and top))
            return victim
        victim, tied = settle(top or state.village(), state.seed, KILL, state.round)
        events.append(
            vote_result(state, KILL, counts, victim, WOLVES, tied=tied, random_pick=bool(tied))
        )
        return victim

    def _apply_night(
        self, state: WerewolfState, actions: Mapping[str, Action], events: list[Event]
    ) -> WerewolfState:
        victim = self._attack(state, actions, events)
        protected = None
        for doctor in state.living(DOCTOR):
            guarded = ballots(actions, (doctor,))
            protected = guarded[doctor]
            events += vote_events(state, guarded, "protect", Private(agent=doctor))
            if victim is not None and victim == protected and self.config.doctor_learns_save:
                events.append(
                    SaveEvent(**stamp(state, doctor, Private(agent=doctor)), target=victim)
                )
        for seer in state.living(SEER):
            seen = ballots(actions, (seer,))
            events += vote_events(state, seen, "investigate", Private(agent=seer))
            target = seen[seer]
            if target is not None:
                events.append(
                    self._shown(state, target, self.config.seer_learns, Private(agent=seer))
                )
        dead = None if victim == protected else victim
        state = replace(state, protected=protected, cast=())
        if dead is not None:  # announced at dawn; a saved victim goes unannounced
            events.append(
                EliminationEvent(round=state.round, phase="dawn", target=dead, cause=KILL)
            )
            if self.config.death_reveals != "nothing":
                dawn = replace(state, phase="dawn")
                events.append(self._shown(dawn, dead, self.config.death_reveals))
        state = self._check_end(replace(state, alive=tuple(p for p in state.alive if p != dead)))
        if state.phase == GAME_OVER:
            return state
        return self._start_day(state, events)

    def _shown(
        self, state: WerewolfState, player: str, level: str, visibility: Visibility = PUBLIC
    ) -> Event:
        """``player``'s role, or only its team, shown to ``visibility``'s audience."""
        if level == "role":
            return revealed(state, player, visibility)
        team = self.words.faction(state.roles[player]).name
        return TeamRevealEvent(**stamp(state, visibility=visibility), player=player, team=team)

    # --- the day -------------------------------------------------------------------------

    def _start_day(self, state: WerewolfState, events: list[Event]) -> WerewolfState:
        c = self.config
        if c.discussion == "bidding":
            day = "bid" if c.debate_turns else self._vote_phase()
            return self.goto(state, day, events, turn=0)
        if not c.discussion_rounds:
            return self.goto(state, self._vote_phase(), events)
        order, state = seat_order(state, state.alive, c.first_speaker, "debate")
        return self.goto(state, "debate", events, queue=order * c.discussion_rounds)

    def _plan_bids(self, state: WerewolfState) -> Step:
        requests = {
            p: ActionRequest(
                actor=p,
                purpose="bid",
                prompt=f"Bid 0-{self.config.max_bid} for the next turn to speak: 0 observe, 1 "
                "general thoughts, 2 something critical, 3 urgent, 4 addressed directly.",
                kinds=("bid",),
                max_amount=self.config.max_bid,
                default=Bid(amount=0),
            )
            for p in state.alive
        }
        return together(state, requests)

    def _apply_bids(
        self, state: WerewolfState, actions: Mapping[str, Action], events: list[Event]
    ) -> WerewolfState:
        bids = {p: a.amount if isinstance(a, Bid) else 0 for p, a in sorted(actions.items())}
        events += own_events(state, BidEvent, "amount", bids)
        speaker = highest_bidder(bids, state.seed, state.round, state.turn)
        return self.goto(state, "debate", events, speaker=speaker)

    def _plan_debate(self, state: WerewolfState) -> Step:
        speaker = state.speaker or state.queue[0]
        others = tuple(p for p in state.alive if p != speaker)
        return turn(state, self._speech(speaker, "debate", others))

    def _apply_debate(
        self, state: WerewolfState, actions: Mapping[str, Action], events: list[Event]
    ) -> WerewolfState:
        if state.speaker is None:  # round-robin
            state = take_turn(state, actions, events)
            return state if state.queue else self.goto(state, self._vote_phase(), events)
        events += spoken(state, state.speaker, actions[state.speaker])
        state = replace(state, turn=state.turn + 1, speaker=None)
        if state.turn < self.config.debate_turns:
            return self.goto(state, "bid", events)
        return self.goto(state, self._vote_phase(), events)

    def _vote_phase(self) -> str:
        """Where the day goes after the debate: the belief probe if on, else the vote."""
        return "belief_probe" if self.config.belief_probe else "exile_vote"

    def _exile_prompt(self, state: WerewolfState) -> str:
        if self.config.voting == "sequential":
            return f"Vote to exile one player. {standing(state.cast)}"
        return "Vote to exile one player."

    def _voter_order(self, state: WerewolfState) -> tuple[tuple[str, ...], WerewolfState]:
        return seat_order(state, state.alive, self.config.first_voter, EXILE)

    def _plan_exile(self, state: WerewolfState) -> Step:
        prompt = self._exile_prompt(state)
        if self.config.voting == "sequential":
            voter = still_to_vote(state, self._voter_order(state)[0])[0]
            return turn(state, self._target(voter, "exile_vote", prompt, state.alive))
        return together(
            state, {p: self._target(p, "exile_vote", prompt, state.alive) for p in state.alive}
        )

    def _exile_count(
        self, state: WerewolfState, actions: Mapping[str, Action], events: list[Event]
    ) -> tuple[WerewolfState, dict[str, int] | None]:
        """The exile vote's count once every voter has voted (None: a sequential vote goes
        on), and the state after it."""
        if self.config.voting == "simultaneous":
            return state, count_votes(state, actions, EXILE, events).counts
        state = cast_vote(state, actions, EXILE, events)
        order, moved = self._voter_order(state)
        if still_to_vote(state, order):
            return state, None
        return replace(moved, cast=()), tally(dict(state.cast))

    def _exiled(
        self, state: WerewolfState, counts: Mapping[str, int]
    ) -> tuple[str | None, tuple[str, ...], bool]:
        """Who the count exiles, the tied leaders, and whether a random pick decided."""
        c, top = self.config, leaders(counts)
        if c.exile_rule == "majority":
            cast = sum(counts.values())
            single = len(top) == 1 and counts[top[0]] * 2 > cast
            return (top[0] if single else None), top[1:] and top, False
        if len(top) == 1:
            return top[0], (), False
        if c.exile_tie == "nobody":
            return None, top, False
        exiled, _ = settle(top or state.alive, state.seed, EXILE, state.round)
        return exiled, top, True

    def _apply_exile(
        self, state: WerewolfState, actions: Mapping[str, Action], events: list[Event]
    ) -> WerewolfState:
        state, counts = self._exile_count(state, actions, events)
        if counts is None:
            return state
        exiled, tied, picked = self._exiled(state, counts)
        events.append(vote_result(state, EXILE, counts, exiled, tied=tied, random_pick=picked))
        if exiled is not None:
            reveals = self.config.exile_reveals
            state = eliminate(state, exiled, EXILE, events, reveals == "role")
            if reveals == "team":
                events.append(self._shown(state, exiled, reveals))
        state = self._check_end(state)
        if state.phase == GAME_OVER:
            return state
        if state.round >= self.config.max_rounds:
            result = Outcome(None, "round limit reached", state.round, truncated=True)
            return self.finish(state, result)
        return self._start_night(replace(state, round=state.round + 1), events)

    phase_table: ClassVar[PhaseTable] = {
        "setup": Phase(automatic, _begin, ("night_talk", "wolf_vote", "night")),
        "night_talk": Phase(_plan_night_talk, _apply_night_talk, ("wolf_vote", "night")),
        "wolf_vote": Phase(_plan_wolf_vote, _apply_wolf_vote, ("night",)),
        "night": Phase(
            _plan_night,
            _apply_night,
            ("bid", "debate", "belief_probe", "exile_vote", GAME_OVER),
        ),
        "bid": Phase(_plan_bids, _apply_bids, ("debate",)),
        "debate": Phase(_plan_debate, _apply_debate, ("bid", "belief_probe", "exile_vote")),
        "belief_probe": probe_phase("a werewolf", then="exile_vote"),
        "exile_vote": Phase(
            _plan_exile, _apply_exile, ("night_talk", "wolf_vote", "night", GAME_OVER)
        ),
    }
    """Phase -> how it plans, how it applies, where it may go."""

    # --- ending and auditing -----------------------------------------------------------

    def _check_end(self, state: WerewolfState) -> WerewolfState:
        result = self.parity(state, state.round)
        return state if result is None else self.finish(state, result)

    def audit(self, state: WerewolfState, event: Event, viewer: str) -> str | None:
        """The game's secrets: the werewolves' talk and votes, roles, and night choices."""
        wolf = viewer in state.channels[CHANNEL]
        secret_night = event.phase in ("night_talk", "night") and event.kind != "phase"
        if isinstance(event, RevealEvent | TeamRevealEvent):
            if state.roles.get(viewer) == SEER and event.visibility == Private(agent=viewer):
                return None  # the seer's own investigation
            if event.player in state.alive or secret_night:
                return f"role of {event.player} shown to {viewer}"
        if secret_night and not wolf and event.actor != viewer:
            return f"night secret ({event.kind}) shown to {viewer}"
        if isinstance(event, RoleEvent) and event.player != viewer:
            return f"role of {event.player} shown to {viewer}"
        if isinstance(event, BidEvent) and event.actor != viewer:
            return "another player's bid"
        if isinstance(event.visibility, GodOnly):
            return "god-only event shown to a player"
        return None


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
