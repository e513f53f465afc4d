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

from agents.scripted import SuspicionPolicy
from scenarios.common import (
    GAME_OVER,
    Phase,
    PhaseTable,
    TableState,
    TeamRules,
    allies,
    automatic,
    belief_events,
    count_votes,
    eliminate,
    probing,
    role_event,
    seeded_pick,
    settle,
    stamp,
    take_turn,
    talk,
    together,
    turn,
    vote_request,
    vote_result,
)
from scenarios.speaking import SPEAKING_ORDERS
from traitors.episode.policy import Observation
from traitors.game.actions import Action, ActionRequest, Respond, Vote
from traitors.game.events import (
    PUBLIC,
    Channel,
    Direct,
    EliminationEvent,
    Event,
    EventBase,
    GodOnly,
    RevealEvent,
    RoleEvent,
    VoteEvent,
    VoteResultEvent,
    game,
)
from traitors.game.rules import Outcome, RulesConfig, Step
from traitors.game.words import Faction, Words

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
NIGHT_PROMPTS = {
    MURDER: "Vote for the faithful to murder tonight.",
    "recruit": "Vote for a faithful to offer a place among the traitors, or pass.",
}
"""The traitors' night ballots: purpose -> prompt."""


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
class TraitorsState(TableState):
    """The full (god's-eye) state of a game; never mutated, replaced."""

    candidates: tuple[str, ...] = ()
    """Legal targets of the current banishment ballot."""
    recruit: str | None = None
    """Player offered to join the traitors, awaiting an answer."""


class TheTraitors(TeamRules[TraitorsState, TraitorsConfig]):
    """Rules of The Traitors (Curvo 2025, after the TV format)."""

    name: ClassVar[str] = "the_traitors"
    config_model: ClassVar[type[RulesConfig]] = TraitorsConfig
    roles: ClassVar[tuple[str, ...]] = (FAITHFUL, TRAITOR)
    words: ClassVar[Words] = WORDS
    event_kinds: ClassVar[tuple[type[EventBase], ...]] = (RecruitOfferEvent, RecruitResponseEvent)
    channel: ClassVar[str] = CHANNEL
    endings: ClassVar[tuple[str, str]] = (
        "every traitor is gone",
        "traitors equal or outnumber the faithful",
    )

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
        return self.seat(TraitorsState, players, roles, rng)

    # --- the round table -----------------------------------------------------------------

    def _begin(
        self, state: TraitorsState, actions: Mapping[str, Action], events: list[Event]
    ) -> TraitorsState:
        return self._start_round(state, 1, None, events)

    def _start_round(
        self, state: TraitorsState, round_no: int, victim: str | None, events: list[Event]
    ) -> TraitorsState:
        alive = tuple(p for p in state.alive if p != victim)
        state = replace(state, round=round_no, alive=alive)
        state = self.goto(state, "breakfast", events)
        if victim is not None:
            events.append(
                EliminationEvent(round=round_no, phase="breakfast", target=victim, cause=MURDER)
            )
        return self._check_end(state)

    def _breakfast(
        self, state: TraitorsState, actions: Mapping[str, Action], events: list[Event]
    ) -> TraitorsState:
        return self._start_speeches(state, "discussion", state.alive, events)

    def _start_speeches(
        self, state: TraitorsState, phase: str, speakers: Sequence[str], events: list[Event]
    ) -> TraitorsState:
        order = SPEAKING_ORDERS[self.config.speaking_order]
        turns = self.config.discussion_turns if phase == "discussion" else 1
        queue: tuple[str, ...] = ()
        for turn_no in range(turns):
            queue += order(speakers, state.round, turn_no, state.seed)
        return self.goto(state, phase, events, queue=queue)

    def _plan_speech(self, state: TraitorsState) -> Step:
        speaker = state.queue[0]
        limit = self.config.max_speech_chars
        if state.phase == "conclave":
            prompt = "Night conclave: agree privately with your fellow traitors whom to murder."
            return turn(state, talk(speaker, "conclave", prompt, limit))
        prompt = "Round table: speak to everyone. You may accuse, defend or claim a role."
        others = tuple(p for p in state.alive if p != speaker)
        return turn(state, talk(speaker, "discussion", prompt, limit, others, self.roles))

    def _apply_discussion(
        self, state: TraitorsState, actions: Mapping[str, Action], events: list[Event]
    ) -> TraitorsState:
        state = take_turn(state, actions, events)
        if state.queue:
            return state
        if self.config.belief_probe:
            return self.goto(state, "belief_probe", events)
        return self._open_vote(state, events)

    def _apply_beliefs(
        self, state: TraitorsState, actions: Mapping[str, Action], events: list[Event]
    ) -> TraitorsState:
        events += belief_events(state, actions)
        return self._open_vote(state, events)

    # --- the banishment ------------------------------------------------------------------

    def _open_vote(self, state: TraitorsState, events: list[Event]) -> TraitorsState:
        return self.goto(state, "banish_vote", events, ballot=0, candidates=state.alive)

    def _plan_banish(self, state: TraitorsState) -> Step:
        def request(voter: str) -> ActionRequest:
            targets = (c for c in state.candidates if c != voter)
            return vote_request(voter, "banish_vote", "Vote to banish one player.", targets)

        return together(state, {voter: request(voter) for voter in state.alive})

    def _apply_banish_vote(
        self, state: TraitorsState, actions: Mapping[str, Action], events: list[Event]
    ) -> TraitorsState:
        _, counts, top = count_votes(state, actions, BANISH, events)
        tie_rule = self.config.banish_tie
        tied = top if len(top) > 1 else ()
        if len(top) == 1:
            events.append(vote_result(state, BANISH, counts, top[0], PUBLIC))
            return self._banish(state, top[0], events)
        if not top or tie_rule == "no_banish":
            events.append(vote_result(state, BANISH, counts, None, PUBLIC, tied))
            return self._start_night(state, events)
        if tie_rule == "revote_then_random" and state.ballot == 0:
            events.append(vote_result(state, BANISH, counts, None, PUBLIC, tied))
            return self.goto(state, "banish_vote", events, ballot=1, candidates=tied)
        chosen = seeded_pick(tied, state.seed, BANISH, state.round, state.ballot)
        events.append(vote_result(state, BANISH, counts, chosen, PUBLIC, tied, True))
        return self._banish(state, chosen, events)

    def _banish(self, state: TraitorsState, target: str, events: list[Event]) -> TraitorsState:
        role = state.roles[target]
        state = eliminate(state, target, BANISH, events, self.config.reveal_on_banish)
        state = self._check_end(state)
        if state.phase == GAME_OVER:
            return state
        if self.config.recruitment and role == TRAITOR and state.living(TRAITOR):
            return self.goto(state, "recruit_offer", events, ballot=0)
        return self._start_night(state, events)

    # --- the night -----------------------------------------------------------------------

    def _start_night(self, state: TraitorsState, events: list[Event]) -> TraitorsState:
        if self.config.conclave:
            return self._start_speeches(state, "conclave", state.living(TRAITOR), events)
        return self.goto(state, "murder_vote", events, ballot=0)

    def _plan_night_vote(self, state: TraitorsState) -> Step:
        purpose = MURDER if state.phase == "murder_vote" else "recruit"
        prompt = NIGHT_PROMPTS[purpose]
        targets = state.living(FAITHFUL)
        return together(
            state,
            {t: vote_request(t, f"{purpose}_vote", prompt, targets) for t in state.living(TRAITOR)},
        )

    def _apply_recruit_offer(
        self, state: TraitorsState, actions: Mapping[str, Action], events: list[Event]
    ) -> TraitorsState:
        _, counts, top = count_votes(state, actions, "recruit", events, TRAITORS_CHANNEL)
        if not top:
            events.append(vote_result(state, "recruit", counts, None, TRAITORS_CHANNEL))
            return self._start_night(state, events)
        chosen, tied = settle(top, state.seed, "recruit", state.round, state.ballot)
        events.append(
            vote_result(state, "recruit", counts, chosen, TRAITORS_CHANNEL, tied, bool(tied))
        )
        audience = Direct(recipients=(*state.living(TRAITOR), chosen))
        events.append(RecruitOfferEvent(**stamp(state, visibility=audience), target=chosen))
        return self.goto(state, "recruit_response", events, recruit=chosen)

    def _plan_recruit_response(self, state: TraitorsState) -> Step:
        assert state.recruit is not None
        request = ActionRequest(
            actor=state.recruit,
            purpose="recruit_response",
            prompt="The traitors offer you a place among them. Accept or refuse.",
            kinds=("respond",),
            default=Respond(accept=False),
        )
        return turn(state, request)

    def _apply_recruit_response(
        self, state: TraitorsState, actions: Mapping[str, Action], events: list[Event]
    ) -> TraitorsState:
        recruit = state.recruit
        assert recruit is not None
        action = actions[recruit]
        accepted = isinstance(action, Respond) and action.accept
        audience = Direct(recipients=(*state.living(TRAITOR), recruit))
        events.append(RecruitResponseEvent(**stamp(state, recruit, audience), accepted=accepted))
        state = replace(state, recruit=None)
        if accepted:
            roles = {**state.roles, recruit: TRAITOR}
            channels = {**state.channels, CHANNEL: state.channels[CHANNEL] | {recruit}}
            state = replace(state, roles=roles, channels=channels)
            events.append(role_event(state, recruit, allies(state, recruit, TRAITOR)))
            state = self._check_end(state)
            if state.phase == GAME_OVER:
                return state
        return self._start_night(state, events)

    def _apply_conclave(
        self, state: TraitorsState, actions: Mapping[str, Action], events: list[Event]
    ) -> TraitorsState:
        state = take_turn(state, actions, events, TRAITORS_CHANNEL)
        return state if state.queue else self.goto(state, "murder_vote", events, ballot=0)

    def _apply_murder_vote(
        self, state: TraitorsState, actions: Mapping[str, Action], events: list[Event]
    ) -> TraitorsState:
        votes, counts, top = count_votes(state, actions, MURDER, events, TRAITORS_CHANNEL)
        unanimous = len(counts) == 1 and None not in votes.values()
        config = self.config
        if (
            config.murder_rule == "unanimous"
            and not unanimous
            and state.ballot < config.murder_revotes
        ):
            events.append(vote_result(state, MURDER, counts, None, TRAITORS_CHANNEL, top))
            return self.goto(state, "murder_vote", events, ballot=state.ballot + 1)
        options = top or state.living(FAITHFUL)
        victim, tied = settle(options, state.seed, MURDER, state.round, state.ballot)
        events.append(
            vote_result(state, MURDER, counts, victim, TRAITORS_CHANNEL, tied, bool(tied))
        )
        return self._start_round(state, state.round + 1, victim, events)

    phase_table: ClassVar[PhaseTable] = {
        "setup": Phase(automatic, _begin, ("breakfast",)),
        "breakfast": Phase(automatic, _breakfast, ("discussion", GAME_OVER)),
        "discussion": Phase(_plan_speech, _apply_discussion, ("belief_probe", "banish_vote")),
        "belief_probe": Phase(probing("a traitor"), _apply_beliefs, ("banish_vote",)),
        "banish_vote": Phase(
            _plan_banish,
            _apply_banish_vote,
            ("banish_vote", "recruit_offer", "conclave", "murder_vote", GAME_OVER),
        ),
        "recruit_offer": Phase(
            _plan_night_vote, _apply_recruit_offer, ("recruit_response", "conclave", "murder_vote")
        ),
        "recruit_response": Phase(
            _plan_recruit_response, _apply_recruit_response, ("conclave", "murder_vote", GAME_OVER)
        ),
        "conclave": Phase(_plan_speech, _apply_conclave, ("murder_vote",)),
        "murder_vote": Phase(_plan_night_vote, _apply_murder_vote, ("murder_vote", "breakfast")),
    }
    """Phase -> how it plans, how it applies, where it may go."""

    # --- ending ----------------------------------------------------------------------

    def _check_end(self, state: TraitorsState) -> TraitorsState:
        # At breakfast the new round has not been played yet: the murder closed the last one.
        played = state.round - 1 if state.phase == "breakfast" else state.round
        result = self.parity(state, played)
        if result is None and state.phase == "breakfast" and played >= self.config.max_rounds:
            result = Outcome(None, "round limit reached", played, truncated=True)
        return state if result is None else self.finish(state, result)

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


class TraitorsHeuristic(SuspicionPolicy):
    """The Traitors' scripted player: the faithful vote their top suspect; the traitors pick
    the faithful pressing them hardest at night and recruit the least suspected."""

    public_votes: ClassVar[frozenset[str]] = frozenset({BANISH})
    hidden_kills: ClassVar[frozenset[str]] = frozenset({MURDER})
    plot_purposes: ClassVar[frozenset[str]] = frozenset({"conclave"})
    kill_votes: ClassVar[frozenset[str]] = frozenset({"murder_vote"})

    def choose(self, observation: Observation, request: ActionRequest) -> Action:
        purpose = request.purpose
        if purpose == "recruit_vote" and request.targets:
            return Vote(target=min(request.targets, key=lambda p: (self.heat[p], p)))
        if purpose == "recruit_response":
            return Respond(accept=self.rng.random() < 0.5)
        return super().choose(observation, request)
