"""The Traitors: faithful try to banish the hidden traitors before being murdered.

A round: breakfast (last night's murder announced) -> round table discussion ->
banishment vote (ties: re-vote among the tied, then a seeded pick) -> reveal of the
banished player's role -> optional recruitment -> night: the traitors' conclave in their
private channel -> murder vote among the traitors -> a faithful dies at next breakfast.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from agents.scripted import CALM_LINES, SuspicionPolicy, speech
from scenarios.common import (
    SeatsState,
    belief_events,
    belief_probe,
    goto,
    leaders,
    survivors,
    tally,
)
from scenarios.speaking import SPEAKING_ORDERS
from traitors.actions import Action, ActionRequest, Respond, Speak, Vote
from traitors.events import (
    PUBLIC,
    Channel,
    Direct,
    EliminationEvent,
    Event,
    EventBase,
    GodOnly,
    PhaseEvent,
    Private,
    RevealEvent,
    RoleEvent,
    SpeakEvent,
    Visibility,
    VoteEvent,
    VoteResultEvent,
    game,
)
from traitors.policy import Observation
from traitors.rules import IllegalTransition, Outcome, RulesBase, RulesConfig, Step
from traitors.seeds import derive_rng
from traitors.words import Faction, Words

TRAITOR = "traitor"
FAITHFUL = "faithful"
CHANNEL = "traitors"
TRAITORS_CHANNEL = Channel(name=CHANNEL)
BANISH, MURDER = "banish", "murder"

WORDS = Words(
    factions=(
        Faction(name="faithful", member=FAITHFUL),
        Faction(name="traitors", member=TRAITOR, hidden=True, allies="your fellow traitors"),
    ),
    roles={FAITHFUL: "faithful", TRAITOR: "traitors"},
    channels={CHANNEL: "the traitors' secret channel"},
    phases={"banish_vote": "the banishment vote", "murder_vote": "the murder vote"},
    eliminations={BANISH: "banished", MURDER: "murdered"},
    votes={BANISH: "to banish", MURDER: "to murder", "recruit": "to recruit"},
    suspect=TRAITOR,
)
"""The Traitors in its own words."""


class RecruitOfferEvent(EventBase):
    """The traitors offered a faithful a place among them."""

    kind: Literal["recruit_offer"] = "recruit_offer"
    target: str
    """The player offered to join."""

    def prompt_text(self, viewer: str, words: Words) -> str:
        return game(f"the traitors offer {self.target} a place among them.")

    def line_text(self, words: Words) -> str:
        return f"traitors offer {self.target} to join"


class RecruitResponseEvent(EventBase):
    """The offered player's answer."""

    kind: Literal["recruit_response"] = "recruit_response"
    accepted: bool
    """True if the player joined the traitors."""

    def prompt_text(self, viewer: str, words: Words) -> str:
        answer = "accepted" if self.accepted else "refused"
        return game(f"{self.actor} {answer} the traitors' offer.")

    def line_text(self, words: Words) -> str:
        return f"{self.actor} {'accepts' if self.accepted else 'refuses'}"


# Phase state machine: phase -> phases it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    "setup": frozenset({"breakfast"}),
    "breakfast": frozenset({"discussion", "game_over"}),
    "discussion": frozenset({"belief_probe", "banish_vote"}),
    "belief_probe": frozenset({"banish_vote"}),
    "banish_vote": frozenset(
        {"banish_vote", "recruit_offer", "conclave", "murder_vote", "game_over"}
    ),
    "recruit_offer": frozenset({"recruit_response", "conclave", "murder_vote"}),
    "recruit_response": frozenset({"conclave", "murder_vote", "game_over"}),
    "conclave": frozenset({"murder_vote"}),
    "murder_vote": frozenset({"murder_vote", "breakfast"}),
    "game_over": frozenset(),
}


class TraitorsConfig(RulesConfig):
    """Rule options of The Traitors; defaults follow the paper."""

    n_players: int = Field(10, ge=3, le=20)
    """Players at the table."""
    n_traitors: int = Field(3, ge=1)
    """Traitors among them; they know each other."""
    max_rounds: int = Field(12, ge=1)
    """Rounds after which the game is a draw, recorded as truncated."""
    discussion_turns: int = Field(1, ge=1)
    """Passes of the round-table discussion; every living player speaks once per pass."""
    speaking_order: Literal["fixed", "rotating", "random"] = "random"
    """How the round table's speaking order is chosen."""
    banish_tie: Literal["revote_then_random", "random", "no_banish"] = "revote_then_random"
    """Tie in the banishment vote: one re-vote among the tied then a seeded pick, a seeded
    pick at once, or nobody banished."""
    reveal_on_banish: bool = True
    """Whether the banished player's role is revealed to everyone."""
    conclave: bool = True
    """Whether the traitors talk in their channel (each once) before the murder vote."""
    murder_rule: Literal["unanimous", "plurality"] = "unanimous"
    """Unanimous: re-vote until the traitors agree (up to ``murder_revotes``), then plurality."""
    murder_revotes: int = Field(2, ge=0)
    """Re-votes allowed when the murder vote is not unanimous."""
    recruitment: bool = False
    """When a traitor is banished, the others may offer a faithful to join them."""
    max_speech_chars: int = Field(600, ge=1)
    """Longest legal speech."""
    belief_probe: bool = True
    """After the discussion, every living player privately reports P(traitor) for each other."""

    @model_validator(mode="after")
    def _traitors_are_a_minority(self) -> TraitorsConfig:
        if self.n_traitors * 2 >= self.n_players:
            raise ValueError(
                f"n_traitors={self.n_traitors} must be fewer than half of "
                f"n_players={self.n_players}, or the traitors win before the game starts"
            )
        return self


@dataclass(frozen=True, kw_only=True)
class TraitorsState(SeatsState):
    """The full (god's-eye) state of a game; never mutated, replaced."""

    seed: int
    """Seed of the rules' own random stream (tie-breaks, speaking orders)."""
    queue: tuple[str, ...] = ()
    """Speakers still to talk in the current discussion or conclave."""
    ballot: int = 0
    """Current ballot of the current vote (0 first, then re-votes)."""
    candidates: tuple[str, ...] = ()
    """Legal targets of the current banishment ballot."""
    recruit: str | None = None
    """Player offered to join the traitors, awaiting an answer."""


class TheTraitors(RulesBase[TraitorsState, TraitorsConfig]):
    """Rules of The Traitors (Curvo 2025, after the TV format)."""

    name: ClassVar[str] = "the_traitors"
    config_model: ClassVar[type[RulesConfig]] = TraitorsConfig
    roles: ClassVar[tuple[str, ...]] = (FAITHFUL, TRAITOR)
    phases: ClassVar[tuple[str, ...]] = tuple(TRANSITIONS)
    words: ClassVar[Words] = WORDS
    event_kinds: ClassVar[tuple[type[EventBase], ...]] = (RecruitOfferEvent, RecruitResponseEvent)

    def seat_count(self) -> int:
        return self.config.n_players

    def describe(self) -> str:
        """The rules in plain words, for agents' prompts."""
        c = self.config
        ties = {
            "revote_then_random": "a tie gets one re-vote among the tied, then a random pick",
            "random": "a tie is settled by a random pick",
            "no_banish": "after a tie nobody is banished",
        }[c.banish_tie]
        murder = (
            "the traitors must agree unanimously (a few re-votes, then the plurality decides)"
            if c.murder_rule == "unanimous"
            else "the plurality of the traitors' votes decides"
        )
        lines = [
            f"You are playing The Traitors, a social deduction game with {c.n_players} players.",
            f"{c.n_traitors} of them are secretly traitors who know each other; the others are "
            "faithful and know only their own role.",
            "Each round: at breakfast the night's murder is announced; at the round table every "
            "living player speaks; then everyone votes to banish one player (most votes; "
            f"{ties}).",
            "The banished player's role is then revealed to all."
            if c.reveal_on_banish
            else "The banished player's role stays secret.",
            f"At night the traitors talk in private and vote to murder one faithful; {murder}.",
        ]
        if c.recruitment:
            lines.append(
                "When a traitor is banished, the remaining traitors may secretly offer one "
                "faithful a place among them."
            )
        lines.append(
            "The faithful win when every traitor is gone. The traitors win when they equal or "
            f"outnumber the faithful. After {c.max_rounds} rounds the game is a draw."
        )
        return "\n".join(lines)

    # --- setup -------------------------------------------------------------------------

    def initial_state(self, players: Sequence[str], rng: random.Random) -> TraitorsState:
        players = tuple(players)
        traitors = set(rng.sample(players, self.config.n_traitors))
        roles = {p: TRAITOR if p in traitors else FAITHFUL for p in players}
        channel = frozenset(p for p in players if p in traitors)
        return TraitorsState(
            round=0,
            phase="setup",
            players=players,
            alive=players,
            roles=roles,
            channels={CHANNEL: channel},
            seed=rng.getrandbits(64),
        )

    def setup_events(self, state: TraitorsState) -> list[Event]:
        events: list[Event] = [PhaseEvent(round=0, phase="setup", alive=state.alive)]
        traitors = state.living(TRAITOR)
        for player in state.players:
            role = state.roles[player]
            allies = tuple(t for t in traitors if t != player) if role == TRAITOR else ()
            events.append(self._role_event(state, player, allies))
        return events

    # --- planning ------------------------------------------------------------------------

    def plan(self, state: TraitorsState) -> Step:
        phase = state.phase
        if phase in ("setup", "breakfast"):
            return Step(phase)
        if phase in ("discussion", "conclave"):
            speaker = state.queue[0]
            return Step(phase, {speaker: self._speech_request(state, speaker)})
        if phase == "banish_vote":
            return Step(phase, self._banish_requests(state), simultaneous=True)
        if phase == "belief_probe":
            return Step(phase, belief_probe(state.alive, "a traitor"), simultaneous=True)
        if phase in ("murder_vote", "recruit_offer"):
            targets = state.living(FAITHFUL)
            purpose = "murder" if phase == "murder_vote" else "recruit"
            requests = {t: self._vote_request(t, purpose, targets) for t in state.living(TRAITOR)}
            return Step(phase, requests, simultaneous=True)
        if phase == "recruit_response":
            assert state.recruit is not None
            request = ActionRequest(
                actor=state.recruit,
                purpose="recruit_response",
                prompt="The traitors offer you a place among them. Accept or refuse.",
                kinds=("respond",),
                default=Respond(accept=False),
            )
            return Step(phase, {state.recruit: request})
        raise IllegalTransition(f"nothing to plan in phase {phase!r}")

    def _speech_request(self, state: TraitorsState, speaker: str) -> ActionRequest:
        if state.phase == "conclave":
            return ActionRequest(
                actor=speaker,
                purpose="conclave",
                prompt="Night conclave: agree privately with your fellow traitors whom to murder.",
                kinds=("speak", "pass"),
                max_text_chars=self.config.max_speech_chars,
            )
        others = tuple(p for p in state.alive if p != speaker)
        return ActionRequest(
            actor=speaker,
            purpose="discussion",
            prompt="Round table: speak to everyone. You may accuse, defend or claim a role.",
            kinds=("speak", "pass"),
            claim_targets=others,
            roles=self.roles,
            max_text_chars=self.config.max_speech_chars,
        )

    def _banish_requests(self, state: TraitorsState) -> dict[str, ActionRequest]:
        requests = {}
        for voter in state.alive:
            targets = tuple(c for c in state.candidates if c != voter)
            requests[voter] = self._vote_request(voter, "banish", targets)
        return requests

    def _vote_request(self, voter: str, purpose: str, targets: tuple[str, ...]) -> ActionRequest:
        prompts = {
            "banish": "Vote to banish one player.",
            "murder": "Vote for the faithful to murder tonight.",
            "recruit": "Vote for a faithful to offer a place among the traitors, or pass.",
        }
        return ActionRequest(
            actor=voter,
            purpose=f"{purpose}_vote",
            prompt=prompts[purpose],
            kinds=("vote", "pass"),
            targets=targets,
        )

    # --- applying ------------------------------------------------------------------------

    def apply(
        self, state: TraitorsState, actions: Mapping[str, Action]
    ) -> tuple[TraitorsState, list[Event]]:
        events: list[Event] = []
        phase = state.phase
        if phase == "setup":
            state = self._start_round(state, 1, None, events)
        elif phase == "breakfast":
            state = self._start_speeches(state, "discussion", state.alive, events)
        elif phase in ("discussion", "conclave"):
            state = self._apply_speech(state, actions, events)
        elif phase == "banish_vote":
            state = self._apply_banish_vote(state, actions, events)
        elif phase == "belief_probe":
            state = self._apply_beliefs(state, actions, events)
        elif phase == "recruit_offer":
            state = self._apply_recruit_offer(state, actions, events)
        elif phase == "recruit_response":
            state = self._apply_recruit_response(state, actions, events)
        elif phase == "murder_vote":
            state = self._apply_murder_vote(state, actions, events)
        else:
            raise IllegalTransition(f"no actions apply in phase {phase!r}")
        return state, events

    def _goto(
        self, state: TraitorsState, phase: str, events: list[Event], **changes: object
    ) -> TraitorsState:
        return goto(state, phase, TRANSITIONS, events, **changes)

    def _start_round(
        self, state: TraitorsState, round_no: int, victim: str | None, events: list[Event]
    ) -> TraitorsState:
        alive = tuple(p for p in state.alive if p != victim)
        state = replace(state, round=round_no, alive=alive)
        state = self._goto(state, "breakfast", events)
        if victim is not None:
            events.append(
                EliminationEvent(round=round_no, phase="breakfast", target=victim, cause=MURDER)
            )
        return self._check_end(state, events)

    def _start_speeches(
        self, state: TraitorsState, phase: str, speakers: Sequence[str], events: list[Event]
    ) -> TraitorsState:
        order = SPEAKING_ORDERS[self.config.speaking_order]
        turns = self.config.discussion_turns if phase == "discussion" else 1
        queue: tuple[str, ...] = ()
        for turn in range(turns):
            queue += order(speakers, state.round, turn, state.seed)
        return self._goto(state, phase, events, queue=queue)

    def _apply_speech(
        self, state: TraitorsState, actions: Mapping[str, Action], events: list[Event]
    ) -> TraitorsState:
        speaker = state.queue[0]
        action = actions[speaker]
        if isinstance(action, Speak):
            visibility: Visibility = TRAITORS_CHANNEL if state.phase == "conclave" else PUBLIC
            events.append(
                SpeakEvent(
                    round=state.round,
                    phase=state.phase,
                    actor=speaker,
                    visibility=visibility,
                    text=action.text,
                    claims=action.claims,
                )
            )
        state = replace(state, queue=state.queue[1:])
        if state.queue:
            return state
        if state.phase == "conclave":
            return self._goto(state, "murder_vote", events, ballot=0)
        if self.config.belief_probe:
            return self._goto(state, "belief_probe", events)
        return self._goto(state, "banish_vote", events, ballot=0, candidates=state.alive)

    def _apply_beliefs(
        self, state: TraitorsState, actions: Mapping[str, Action], events: list[Event]
    ) -> TraitorsState:
        events += belief_events(state, actions)
        return self._goto(state, "banish_vote", events, ballot=0, candidates=state.alive)

    def _record_votes(
        self,
        state: TraitorsState,
        actions: Mapping[str, Action],
        purpose: str,
        visibility: Visibility,
        events: list[Event],
    ) -> dict[str, str | None]:
        votes = {
            voter: (action.target if isinstance(action, Vote) else None)
            for voter, action in sorted(actions.items())
        }
        for voter, target in votes.items():
            events.append(
                VoteEvent(
                    round=state.round,
                    phase=state.phase,
                    actor=voter,
                    visibility=visibility,
                    purpose=purpose,
                    ballot=state.ballot,
                    target=target,
                )
            )
        return votes

    def _result(
        self,
        state: TraitorsState,
        purpose: str,
        counts: dict[str, int],
        decided: str | None,
        visibility: Visibility,
        tied: tuple[str, ...] = (),
        random_pick: bool = False,
    ) -> VoteResultEvent:
        return VoteResultEvent(
            round=state.round,
            phase=state.phase,
            visibility=visibility,
            purpose=purpose,
            ballot=state.ballot,
            tally=counts,
            decided=decided,
            tied=tied,
            random_pick=random_pick,
        )

    def _pick(self, state: TraitorsState, purpose: str, options: Sequence[str]) -> str:
        return derive_rng(state.seed, "pick", purpose, state.round, state.ballot).choice(
            sorted(options)
        )

    def _apply_banish_vote(
        self, state: TraitorsState, actions: Mapping[str, Action], events: list[Event]
    ) -> TraitorsState:
        votes = self._record_votes(state, actions, BANISH, PUBLIC, events)
        counts = tally(votes)
        top = leaders(counts)
        tie_rule = self.config.banish_tie
        tied = top if len(top) > 1 else ()
        if len(top) == 1:
            events.append(self._result(state, "banish", counts, top[0], PUBLIC))
            return self._banish(state, top[0], events)
        if not top or tie_rule == "no_banish":
            events.append(self._result(state, "banish", counts, None, PUBLIC, tied))
            return self._start_night(state, events)
        if tie_rule == "revote_then_random" and state.ballot == 0:
            events.append(self._result(state, "banish", counts, None, PUBLIC, tied))
            return self._goto(state, "banish_vote", events, ballot=1, candidates=tied)
        chosen = self._pick(state, "banish", tied)
        events.append(self._result(state, "banish", counts, chosen, PUBLIC, tied, True))
        return self._banish(state, chosen, events)

    def _banish(self, state: TraitorsState, target: str, events: list[Event]) -> TraitorsState:
        events.append(
            EliminationEvent(round=state.round, phase=state.phase, target=target, cause=BANISH)
        )
        role = state.roles[target]
        if self.config.reveal_on_banish:
            events.append(
                RevealEvent(round=state.round, phase=state.phase, player=target, role=role)
            )
        state = replace(state, alive=tuple(p for p in state.alive if p != target))
        state = self._check_end(state, events)
        if state.phase == "game_over":
            return state
        if self.config.recruitment and role == TRAITOR and state.living(TRAITOR):
            return self._goto(state, "recruit_offer", events, ballot=0)
        return self._start_night(state, events)

    def _start_night(self, state: TraitorsState, events: list[Event]) -> TraitorsState:
        if self.config.conclave:
            return self._start_speeches(state, "conclave", state.living(TRAITOR), events)
        return self._goto(state, "murder_vote", events, ballot=0)

    def _apply_recruit_offer(
        self, state: TraitorsState, actions: Mapping[str, Action], events: list[Event]
    ) -> TraitorsState:
        votes = self._record_votes(state, actions, "recruit", TRAITORS_CHANNEL, events)
        counts = tally(votes)
        top = leaders(counts)
        if not top:
            events.append(self._result(state, "recruit", counts, None, TRAITORS_CHANNEL))
            return self._start_night(state, events)
        chosen = top[0] if len(top) == 1 else self._pick(state, "recruit", top)
        tied = top if len(top) > 1 else ()
        events.append(
            self._result(state, "recruit", counts, chosen, TRAITORS_CHANNEL, tied, bool(tied))
        )
        audience = Direct(recipients=(*state.living(TRAITOR), chosen))
        events.append(
            RecruitOfferEvent(
                round=state.round, phase=state.phase, visibility=audience, target=chosen
            )
        )
        return self._goto(state, "recruit_response", events, recruit=chosen)

    def _apply_recruit_response(
        self, state: TraitorsState, actions: Mapping[str, Action], events: list[Event]
    ) -> TraitorsState:
        recruit = state.recruit
        assert recruit is not None
        action = actions[recruit]
        accepted = isinstance(action, Respond) and action.accept
        audience = Direct(recipients=(*state.living(TRAITOR), recruit))
        events.append(
            RecruitResponseEvent(
                round=state.round,
                phase=state.phase,
                actor=recruit,
                visibility=audience,
                accepted=accepted,
            )
        )
        state = replace(state, recruit=None)
        if accepted:
            roles = {**state.roles, recruit: TRAITOR}
            channels = {**state.channels, CHANNEL: state.channels[CHANNEL] | {recruit}}
            state = replace(state, roles=roles, channels=channels)
            allies = tuple(t for t in state.living(TRAITOR) if t != recruit)
            events.append(self._role_event(state, recruit, allies))
            state = self._check_end(state, events)
            if state.phase == "game_over":
                return state
        return self._start_night(state, events)

    def _apply_murder_vote(
        self, state: TraitorsState, actions: Mapping[str, Action], events: list[Event]
    ) -> TraitorsState:
        votes = self._record_votes(state, actions, "murder", TRAITORS_CHANNEL, events)
        counts = tally(votes)
        top = leaders(counts)
        unanimous = len(counts) == 1 and None not in votes.values()
        config = self.config
        if (
            config.murder_rule == "unanimous"
            and not unanimous
            and state.ballot < config.murder_revotes
        ):
            events.append(self._result(state, "murder", counts, None, TRAITORS_CHANNEL, top))
            return self._goto(state, "murder_vote", events, ballot=state.ballot + 1)
        options = top or state.living(FAITHFUL)
        random_pick = len(options) > 1
        victim = self._pick(state, "murder", options) if random_pick else options[0]
        tied = options if random_pick else ()
        events.append(
            self._result(state, "murder", counts, victim, TRAITORS_CHANNEL, tied, random_pick)
        )
        return self._start_round(state, state.round + 1, victim, events)

    # --- ending ----------------------------------------------------------------------

    def _check_end(self, state: TraitorsState, events: list[Event]) -> TraitorsState:
        traitors, faithful = len(state.living(TRAITOR)), len(state.living(FAITHFUL))
        # At breakfast the new round has not been played yet: the murder closed the last one.
        played = state.round - 1 if state.phase == "breakfast" else state.round
        result: Outcome | None = None
        if traitors == 0:
            result = Outcome("faithful", "every traitor is gone", played)
        elif traitors >= faithful:
            result = Outcome("traitors", "traitors equal or outnumber the faithful", played)
        elif state.phase == "breakfast" and played >= self.config.max_rounds:
            result = Outcome(None, "round limit reached", played, truncated=True)
        if result is None:
            return state
        if "game_over" not in TRANSITIONS[state.phase]:
            raise IllegalTransition(f"{state.phase} -> game_over")
        return replace(state, phase="game_over", result=result, queue=())

    def outcome(self, state: TraitorsState) -> Outcome | None:
        return state.result

    def judge(self, events: Sequence[Event]) -> str | None:
        """Winner from the log: roles from role events, eliminations from banish/murder."""
        roles, alive = survivors(events)
        traitors = sum(roles[p] == TRAITOR for p in alive)
        if traitors == 0:
            return "faithful"
        if traitors >= len(alive) - traitors:
            return "traitors"
        return None

    def _role_event(self, state: TraitorsState, player: str, allies: tuple[str, ...]) -> RoleEvent:
        return RoleEvent(
            round=state.round,
            phase=state.phase,
            visibility=Private(agent=player),
            player=player,
            role=state.roles[player],
            allies=allies,
            channels=(CHANNEL,) if player in state.channels[CHANNEL] else (),
        )

    # --- audit -----------------------------------------------------------------------

    def audit(self, state: TraitorsState, event: Event, viewer: str) -> str | None:
        """Game secrets a viewer must not learn: an independent check next to visible_to."""
        in_channel = viewer in state.channels[CHANNEL]
        night_talk = event.phase in ("conclave", "murder_vote") and event.kind != "phase"
        if (night_talk or isinstance(event.visibility, Channel)) and not in_channel:
            return "traitors' channel shown to a non-traitor"
        secret_vote = isinstance(event, VoteEvent | VoteResultEvent) and event.purpose != "banish"
        if secret_vote and not in_channel:
            return "traitors' vote shown to a non-traitor"
        if isinstance(event, RoleEvent) and event.player != viewer:
            return f"role of {event.player} shown to {viewer}"
        if isinstance(event, RevealEvent) and event.player in state.alive:
            return f"role of living player {event.player} revealed"
        if isinstance(event.visibility, GodOnly):
            return "god-only event shown to a player"
        return None


CONCLAVE_LINES = (
    "Tonight we should take out {t}. They are getting too close.",
    "{t} is the biggest threat to us. Let's agree on {t}.",
)


class TraitorsHeuristic(SuspicionPolicy):
    """The Traitors' scripted player: the faithful vote their top suspect; the traitors pick
    the faithful pressing them hardest at night and recruit the least suspected."""

    public_votes: ClassVar[frozenset[str]] = frozenset({BANISH})
    hidden_kills: ClassVar[frozenset[str]] = frozenset({MURDER})

    def choose(self, observation: Observation, request: ActionRequest) -> Action:
        purpose = request.purpose
        if purpose == "conclave":
            victims = tuple(p for p in observation.alive if p != self.seat and p not in self.allies)
            target = self.victim(victims) if victims else None
            lines = CONCLAVE_LINES if target else CALM_LINES
            return Speak(text=speech(self.rng, target, lines))
        if purpose == "murder_vote" and request.targets:
            return Vote(target=self.victim(request.targets))
        if purpose == "recruit_vote" and request.targets:
            return Vote(target=min(request.targets, key=lambda p: (self.heat[p], p)))
        if purpose == "recruit_response":
            return Respond(accept=self.rng.random() < 0.5)
        return super().choose(observation, request)
