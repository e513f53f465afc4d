"""Werewolf's phase machine: nights, the day's discussion and the exile vote, as the rule
options (``config``) say."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import ClassVar

from scenarios.common import (
    GAME_OVER,
    Phase,
    PhaseTable,
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
from scenarios.werewolf.bidding import Bid, BidEvent, highest_bidder
from scenarios.werewolf.config import Order, WerewolfConfig
from scenarios.werewolf.events import SaveEvent, TeamRevealEvent, ThreatEvent
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
from traitors.game.actions import (
    Action,
    ActionBase,
    ActionRequest,
)
from traitors.game.events import (
    PUBLIC,
    EliminationEvent,
    Event,
    EventBase,
    GodOnly,
    Private,
    RevealEvent,
    RoleEvent,
    Visibility,
)
from traitors.game.rules import Outcome, RulesConfig, Step
from traitors.game.words import Words


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
        if self.config.deal:
            roles = dict(zip(players, self.config.deal, strict=True))
            return self.seat(WerewolfState, players, roles, rng)
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
        return self._order(state, state.living(WEREWOLF), self.config.first_wolf, KILL)

    def _order(
        self, state: WerewolfState, among: Sequence[str], strategy: Order, name: str
    ) -> tuple[tuple[str, ...], WerewolfState]:
        """``seat_order`` with the recorded first seat of a random order, if any."""
        first = self.config.drawn(among, "order", name, state.round)
        return seat_order(state, among, strategy, name, first)

    def _settle(
        self, state: WerewolfState, options: Sequence[str], purpose: str
    ) -> tuple[str, tuple[str, ...]]:
        """``settle`` with the recorded pick of a random tie-break, if any."""
        drawn = self.config.drawn(options, "pick", purpose, state.round)
        if drawn is not None and len(options) > 1:
            return drawn, tuple(options)
        return settle(options, state.seed, purpose, state.round)

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
        victim, tied = self._settle(state, top or state.village(), KILL)
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
        order, state = self._order(state, state.alive, c.first_speaker, "debate")
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
        drawn = self.config.drawn(tuple(bids), "bid", state.round, state.turn)
        speaker = highest_bidder(bids, state.seed, state.round, state.turn, drawn=drawn)
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
        return self._order(state, state.alive, self.config.first_voter, EXILE)

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
        exiled, _ = self._settle(state, top or state.alive, EXILE)
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
