"""Spy: the rules. Three players (up to six), one of them secretly the spy; each speaks once,
privately reports P(spy) of the others, then all vote at once to vote one out. The locals win
if they vote out the spy; otherwise the spy wins. One round.

Only the engine's contracts are used (``traitors.game.rules``, ``traitors.game.events``,
``traitors.game.actions``, ``traitors.game.words``): no other scenario's code.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar, Literal

from pydantic import Field

from traitors.game.actions import Action, ActionBase, ActionRequest, Belief, Speak, Vote
from traitors.game.events import (
    BeliefEvent,
    EliminationEvent,
    Event,
    EventBase,
    PhaseEvent,
    Private,
    RevealEvent,
    RoleEvent,
    SpeakEvent,
    VoteEvent,
    VoteResultEvent,
)
from traitors.game.rules import IllegalTransition, Outcome, RulesBase, RulesConfig, Step
from traitors.game.seeds import derive_rng
from traitors.game.words import Faction, Words

SPY, LOCAL = "spy", "local"
SPIES, LOCALS = "spies", "locals"
VOTE_OUT = "vote_out"
"""The vote's purpose and the elimination's cause."""

WORDS = Words(
    factions=(
        Faction(name=LOCALS, member=LOCAL),
        Faction(name=SPIES, member=SPY, hidden=True),
    ),
    roles={LOCAL: LOCALS, SPY: SPIES},
    phases={"discussion": "the talk", "vote": "the vote"},
    eliminations={VOTE_OUT: "voted out"},
    votes={VOTE_OUT: "to vote out"},
    suspect=SPY,
)
"""Spy in its own words."""

TRANSITIONS: dict[str, frozenset[str]] = {
    "setup": frozenset({"discussion"}),
    "discussion": frozenset({"belief_probe"}),
    "belief_probe": frozenset({"vote"}),
    "vote": frozenset({"game_over"}),
    "game_over": frozenset(),
}

TIE_WORDS = {
    "nobody": "a tie votes nobody out",
    "random": "a tie is settled by a random pick among the tied",
}
"""How the rules text states each tie rule (the analysis plug-in checks it)."""


class SpyConfig(RulesConfig):
    """Rule options of Spy."""

    n_players: int = Field(3, ge=3, le=6)
    """Players at the table, one of them the spy."""
    tie: Literal["nobody", "random"] = "nobody"
    """nobody: a tied vote votes nobody out (the spy wins); random: a seeded pick among the
    tied."""
    max_rounds: int = Field(1, ge=1, le=1)
    """The game is one round."""
    max_speech_chars: int = Field(300, ge=1)


@dataclass(frozen=True)
class SpyState:
    """The state of a game; replaced, never mutated."""

    round: int
    phase: str
    players: tuple[str, ...]
    alive: tuple[str, ...]
    roles: Mapping[str, str]
    channels: Mapping[str, frozenset[str]]
    seed: int
    queue: tuple[str, ...] = ()
    """Players still to speak."""
    result: Outcome | None = None


class Spy(RulesBase[SpyState, SpyConfig]):
    """The rules of Spy."""

    name: ClassVar[str] = "spy"
    config_model: ClassVar[type[RulesConfig]] = SpyConfig
    roles: ClassVar[tuple[str, ...]] = (LOCAL, SPY)
    phases: ClassVar[tuple[str, ...]] = tuple(TRANSITIONS)
    words: ClassVar[Words] = WORDS
    event_kinds: ClassVar[tuple[type[EventBase], ...]] = ()
    action_kinds: ClassVar[tuple[type[ActionBase], ...]] = ()

    def seat_count(self) -> int:
        return self.config.n_players

    def describe(self) -> str:
        return (
            f"You are playing Spy with {self.config.n_players} players: one of them is "
            "secretly the spy, the others are locals. Each player speaks once, then privately "
            "says how likely each other player is the spy, then everyone votes at once to vote "
            f"one player out; {TIE_WORDS[self.config.tie]}. The locals win if they vote out "
            "the spy; otherwise the spy wins. The game is one round."
        )

    def initial_state(self, players: Sequence[str], rng: random.Random) -> SpyState:
        players = tuple(players)
        spy = rng.choice(players)
        return SpyState(
            round=0,
            phase="setup",
            players=players,
            alive=players,
            roles={p: SPY if p == spy else LOCAL for p in players},
            channels={},
            seed=rng.getrandbits(64),
        )

    def setup_events(self, state: SpyState) -> list[Event]:
        events: list[Event] = [PhaseEvent(round=0, phase="setup", alive=state.alive)]
        events += [
            RoleEvent(
                round=0,
                phase="setup",
                visibility=Private(agent=p),
                player=p,
                role=state.roles[p],
            )
            for p in state.players
        ]
        return events

    def plan(self, state: SpyState) -> Step:
        if state.phase == "setup":
            return Step("setup")
        if state.phase == "discussion":
            speaker = state.queue[0]
            others = tuple(p for p in state.alive if p != speaker)
            request = ActionRequest(
                actor=speaker,
                purpose="discussion",
                prompt="Speak to everyone once. You may accuse, defend or claim a role.",
                kinds=("speak", "pass"),
                claim_targets=others,
                roles=self.roles,
                max_text_chars=self.config.max_speech_chars,
            )
            return Step("discussion", {speaker: request})
        if state.phase == "belief_probe":
            requests = {
                p: ActionRequest(
                    actor=p,
                    purpose="belief",
                    prompt="Privately: how likely (0 to 1) is each other player the spy?",
                    kinds=("belief",),
                    targets=tuple(o for o in state.alive if o != p),
                    default=Belief(probs={}),
                )
                for p in state.alive
            }
            return Step("belief_probe", requests, simultaneous=True)
        if state.phase == "vote":
            requests = {
                p: ActionRequest(
                    actor=p,
                    purpose=VOTE_OUT,
                    prompt="Vote one player out.",
                    kinds=("vote", "pass"),
                    targets=tuple(o for o in state.alive if o != p),
                )
                for p in state.alive
            }
            return Step("vote", requests, simultaneous=True)
        raise IllegalTransition(f"nothing to plan in phase {state.phase!r}")

    def apply(self, state: SpyState, actions: Mapping[str, Action]) -> tuple[SpyState, list[Event]]:
        events: list[Event] = []
        if state.phase == "setup":
            state = self._goto(replace(state, round=1), "discussion", events, queue=state.alive)
        elif state.phase == "discussion":
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
            if not state.queue:
                state = self._goto(state, "belief_probe", events)
        elif state.phase == "belief_probe":
            events += [
                BeliefEvent(
                    round=state.round,
                    phase=state.phase,
                    actor=p,
                    visibility=Private(agent=p),
                    probs=dict(sorted(a.probs.items())) if isinstance(a, Belief) else {},
                )
                for p, a in sorted(actions.items())
            ]
            state = self._goto(state, "vote", events)
        elif state.phase == "vote":
            state = self._vote(state, actions, events)
        else:
            raise IllegalTransition(f"no actions apply in phase {state.phase!r}")
        return state, events

    def _goto(
        self, state: SpyState, phase: str, events: list[Event], **changes: object
    ) -> SpyState:
        if phase not in TRANSITIONS[state.phase]:
            raise IllegalTransition(f"{state.phase} -> {phase}")
        state = replace(state, phase=phase, **changes)  # type: ignore[arg-type]
        events.append(PhaseEvent(round=state.round, phase=phase, alive=state.alive))
        return state

    def _vote(
        self, state: SpyState, actions: Mapping[str, Action], events: list[Event]
    ) -> SpyState:
        ballots = {p: a.target if isinstance(a, Vote) else None for p, a in sorted(actions.items())}
        events += [
            VoteEvent(
                round=state.round, phase="vote", actor=p, purpose=VOTE_OUT, ballot=0, target=t
            )
            for p, t in ballots.items()
        ]
        tally = dict(sorted(Counter(t for t in ballots.values() if t is not None).items()))
        best = max(tally.values(), default=0)
        top = tuple(t for t, n in tally.items() if n == best)
        out = top[0] if len(top) == 1 else None
        picked = len(top) > 1 and self.config.tie == "random"
        if picked:
            out = derive_rng(state.seed, "tie").choice(top)
        events.append(
            VoteResultEvent(
                round=state.round,
                phase="vote",
                purpose=VOTE_OUT,
                ballot=0,
                tally=tally,
                decided=out,
                tied=top if len(top) > 1 else (),
                random_pick=picked,
            )
        )
        if out is not None:
            events.append(
                EliminationEvent(round=state.round, phase="vote", target=out, cause=VOTE_OUT)
            )
            events.append(
                RevealEvent(round=state.round, phase="vote", player=out, role=state.roles[out])
            )
            state = replace(state, alive=tuple(p for p in state.alive if p != out))
        caught = out is not None and state.roles[out] == SPY
        result = (
            Outcome(LOCALS, "the locals voted out the spy", state.round)
            if caught
            else Outcome(SPIES, "the spy was not voted out", state.round)
        )
        return replace(state, phase="game_over", result=result)

    def outcome(self, state: SpyState) -> Outcome | None:
        return state.result

    def judge(self, events: Sequence[Event]) -> str | None:
        """The winner from the log alone: the dealt roles, and who the vote put out."""
        roles = {e.player: e.role for e in events if isinstance(e, RoleEvent)}
        if not any(isinstance(e, VoteResultEvent) for e in events):
            return None
        out = [e.target for e in events if isinstance(e, EliminationEvent)]
        return LOCALS if any(roles.get(p) == SPY for p in out) else SPIES

    def audit(self, state: SpyState, event: Event, viewer: str) -> str | None:
        """The game's secrets: the roles (until a vote reveals one) and the private probes."""
        if isinstance(event, RoleEvent) and event.player != viewer:
            return f"role of {event.player} shown to {viewer}"
        if isinstance(event, RevealEvent) and event.player in state.alive:
            return f"role of {event.player}, still playing, shown to {viewer}"
        if isinstance(event, BeliefEvent) and event.actor != viewer:
            return f"{event.actor}'s private probe shown to {viewer}"
        return None
