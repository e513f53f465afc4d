"""The scenario kit: a phase table and its dispatcher, and the pieces the games share
(dealing roles, speech, votes, belief probes, parity wins, reading survivors from a log)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Generic, NamedTuple, Self, TypeVar

from traitors.game.actions import Action, ActionRequest, Belief, Speak, Vote
from traitors.game.events import (
    PUBLIC,
    BeliefEvent,
    EliminationEvent,
    Event,
    PhaseEvent,
    Private,
    RevealEvent,
    RoleEvent,
    SpeakEvent,
    Visibility,
    VoteEvent,
    VoteResultEvent,
)
from traitors.game.rules import IllegalTransition, Outcome, RulesBase, RulesConfig, Step
from traitors.game.seeds import derive_rng

GAME_OVER = "game_over"
"""The last phase of every game; it has no row in a phase table."""

# --- states -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SeatsState:
    """The fields every scenario's state has; scenarios add their own."""

    round: int
    phase: str
    players: tuple[str, ...]
    alive: tuple[str, ...]
    roles: Mapping[str, str]
    """Player -> current role."""
    channels: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Channel name -> members now."""
    result: Outcome | None = None
    """Set when the game is over."""

    @classmethod
    def deal(cls, players: Sequence[str], roles: Mapping[str, str], **fields: Any) -> Self:
        """The state at setup: every player seated and alive, holding its dealt role."""
        seats = tuple(players)
        return cls(round=0, phase="setup", players=seats, alive=seats, roles=roles, **fields)

    def living(self, *roles: str) -> tuple[str, ...]:
        """Living players holding one of ``roles``, in seat order."""
        return tuple(p for p in self.alive if self.roles[p] in roles)


@dataclass(frozen=True, kw_only=True)
class TableState(SeatsState):
    """A social-deduction game's state: its own random stream and a speaking queue."""

    seed: int
    """Seed of the rules' own random stream (tie-breaks, speaking orders)."""
    queue: tuple[str, ...] = ()
    """Speakers still to talk in the current round of speech."""
    ballot: int = 0
    """Ballot of the current vote: 0 first, then its re-votes."""


S = TypeVar("S", bound=SeatsState)
T = TypeVar("T", bound=TableState)
R = TypeVar("R")
C = TypeVar("C", bound=RulesConfig)

# --- the phase table ----------------------------------------------------------------------


@dataclass(frozen=True)
class Phase(Generic[R, S]):
    """One row of a phase table: how the phase asks for actions, how it applies them (and
    appends its events), and the phases it may move to."""

    plan: Callable[[R, S], Step]
    apply: Callable[[R, S, Mapping[str, Action], list[Event]], S]
    to: tuple[str, ...]


PhaseTable = Mapping[str, Phase[Any, Any]]
"""Phase -> its row, in the order the phases are listed (``game_over`` implied, last)."""


def automatic(rules: object, state: SeatsState) -> Step:
    """The plan of a phase nobody acts in: applied at once, with no actions."""
    return Step(state.phase)


class PhasedRules(RulesBase[S, C]):
    """Rules whose phase machine is one table, ``phase_table``: ``plan`` and ``apply``
    dispatch on it, ``goto`` and ``finish`` check its transitions."""

    phase_table: ClassVar[PhaseTable]
    phases: ClassVar[tuple[str, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "phase_table" in vars(cls):  # not on a base such as TeamRules
            cls.phases = (*cls.phase_table, GAME_OVER)

    def _row(self, state: S, what: str) -> Phase[Any, Any]:
        row = self.phase_table.get(state.phase)
        if row is None:
            raise IllegalTransition(f"{what} in phase {state.phase!r}")
        return row

    def plan(self, state: S) -> Step:
        """The next step, from the current phase's row."""
        step: Step = self._row(state, "nothing to plan").plan(self, state)
        return step

    def apply(self, state: S, actions: Mapping[str, Action]) -> tuple[S, list[Event]]:
        """Apply a step's actions with the current phase's row."""
        events: list[Event] = []
        after: S = self._row(state, "no actions apply").apply(self, state, actions, events)
        return after, events

    def _check(self, state: S, phase: str) -> None:
        row = self.phase_table.get(state.phase)
        if row is None or phase not in row.to:
            raise IllegalTransition(f"{state.phase} -> {phase}")

    def goto(self, state: S, phase: str, events: list[Event], **changes: Any) -> S:
        """Move to ``phase`` (IllegalTransition if the table does not allow it) and announce it."""
        self._check(state, phase)
        state = replace(state, phase=phase, **changes)
        events.append(PhaseEvent(round=state.round, phase=phase, alive=state.alive))
        return state

    def finish(self, state: S, result: Outcome) -> S:
        """End the game with ``result``, unannounced (the engine logs the game's end)."""
        self._check(state, GAME_OVER)
        return replace(state, phase=GAME_OVER, result=result)

    def outcome(self, state: S) -> Outcome | None:
        return state.result


# --- events -------------------------------------------------------------------------------


def stamp(
    state: SeatsState, actor: str | None = None, visibility: Visibility = PUBLIC
) -> dict[str, Any]:
    """The header of an event of the current step: its round and phase, who acted (if a
    player did) and who sees it."""
    return {"round": state.round, "phase": state.phase, "actor": actor, "visibility": visibility}


# --- dealing roles ------------------------------------------------------------------------


def opening(state: SeatsState) -> PhaseEvent:
    """The setup phase's announcement: who sits at the table."""
    return PhaseEvent(round=0, phase="setup", alive=state.alive)


def role_event(state: SeatsState, player: str, allies: tuple[str, ...] = ()) -> RoleEvent:
    """``player`` privately learns its role, the ``allies`` it knows and its channels."""
    return RoleEvent(
        **stamp(state, visibility=Private(agent=player)),
        player=player,
        role=state.roles[player],
        allies=allies,
        channels=tuple(name for name, members in state.channels.items() if player in members),
    )


def allies(state: SeatsState, player: str, *team: str) -> tuple[str, ...]:
    """The other living players holding a ``team`` role, if ``player`` holds one."""
    if state.roles[player] not in team:
        return ()
    return tuple(p for p in state.living(*team) if p != player)


# --- steps --------------------------------------------------------------------------------


def turn(state: SeatsState, request: ActionRequest) -> Step:
    """A step one player acts in."""
    return Step(state.phase, {request.actor: request})


def together(state: SeatsState, requests: Mapping[str, ActionRequest]) -> Step:
    """A step every requested player acts in at once, on the same snapshot."""
    return Step(state.phase, requests, simultaneous=True)


# --- speech -------------------------------------------------------------------------------


def talk(
    actor: str,
    purpose: str,
    prompt: str,
    limit: int,
    claims: tuple[str, ...] = (),
    roles: tuple[str, ...] = (),
) -> ActionRequest:
    """A request to speak (or pass), in at most ``limit`` characters; ``claims`` are the
    players it may accuse or defend, ``roles`` the roles it may claim."""
    return ActionRequest(
        actor=actor,
        purpose=purpose,
        prompt=prompt,
        kinds=("speak", "pass"),
        claim_targets=claims,
        roles=roles,
        max_text_chars=limit,
    )


def spoken(
    state: SeatsState, speaker: str, action: Action, visibility: Visibility = PUBLIC
) -> list[Event]:
    """What ``speaker`` said, if it spoke (a pass says nothing)."""
    if not isinstance(action, Speak):
        return []
    return [SpeakEvent(**stamp(state, speaker, visibility), text=action.text, claims=action.claims)]


def take_turn(
    state: T, actions: Mapping[str, Action], events: list[Event], visibility: Visibility = PUBLIC
) -> T:
    """The speaker at the head of the queue speaks; the queue moves on."""
    speaker = state.queue[0]
    events += spoken(state, speaker, actions[speaker], visibility)
    return replace(state, queue=state.queue[1:])


# --- votes --------------------------------------------------------------------------------


def vote_request(actor: str, purpose: str, prompt: str, targets: Iterable[str]) -> ActionRequest:
    """A request to vote for one of ``targets``, or pass."""
    return ActionRequest(
        actor=actor, purpose=purpose, prompt=prompt, kinds=("vote", "pass"), targets=tuple(targets)
    )


def ballots(
    actions: Mapping[str, Action], voters: Iterable[str] | None = None
) -> dict[str, str | None]:
    """Each voter's target (None: it passed), every actor in name order unless ``voters``."""
    order = sorted(actions) if voters is None else voters
    chosen = {voter: actions.get(voter) for voter in order}
    return {v: (a.target if isinstance(a, Vote) else None) for v, a in chosen.items()}


def vote_events(
    state: TableState,
    votes: Mapping[str, str | None],
    purpose: str,
    visibility: Visibility = PUBLIC,
) -> list[Event]:
    """One event per vote cast in the current ballot."""
    return [
        VoteEvent(
            **stamp(state, voter, visibility), purpose=purpose, ballot=state.ballot, target=target
        )
        for voter, target in votes.items()
    ]


class Count(NamedTuple):
    """A ballot's votes and their count."""

    votes: dict[str, str | None]
    """Voter -> target (None: it passed)."""
    counts: dict[str, int]
    """Target -> votes (see ``tally``)."""
    top: tuple[str, ...]
    """The targets with the most votes (see ``leaders``)."""


def count_votes(
    state: TableState,
    actions: Mapping[str, Action],
    purpose: str,
    events: list[Event],
    visibility: Visibility = PUBLIC,
    voters: Iterable[str] | None = None,
) -> Count:
    """The voters' votes (every actor's, in name order, unless ``voters``), logged and counted."""
    votes = ballots(actions, voters)
    events += vote_events(state, votes, purpose, visibility)
    counts = tally(votes)
    return Count(votes, counts, leaders(counts))


def vote_result(
    state: TableState,
    purpose: str,
    counts: dict[str, int],
    decided: str | None,
    visibility: Visibility = PUBLIC,
    tied: tuple[str, ...] = (),
    random_pick: bool = False,
) -> VoteResultEvent:
    """The current ballot's count and what it decided."""
    return VoteResultEvent(
        **stamp(state, visibility=visibility),
        purpose=purpose,
        ballot=state.ballot,
        tally=counts,
        decided=decided,
        tied=tied,
        random_pick=random_pick,
    )


def tally(votes: Mapping[str, str | None]) -> dict[str, int]:
    """Votes per target, sorted by target; abstentions are not counted."""
    counts = Counter(t for t in votes.values() if t is not None)
    return dict(sorted(counts.items()))


def leaders(counts: Mapping[str, int]) -> tuple[str, ...]:
    """Targets with the most votes, sorted."""
    if not counts:
        return ()
    best = max(counts.values())
    return tuple(sorted(t for t, n in counts.items() if n == best))


def seeded_pick(options: Sequence[str], seed: int, *labels: object) -> str:
    """A pick among ``options`` from the rules' stream, the same for the same labels."""
    return derive_rng(seed, "pick", *labels).choice(sorted(options))


def settle(options: Sequence[str], seed: int, *labels: object) -> tuple[str, tuple[str, ...]]:
    """The one option, or a seeded pick among several; second, the tied options (if several)."""
    if len(options) == 1:
        return options[0], ()
    return seeded_pick(options, seed, *labels), tuple(options)


def revealed(state: SeatsState, player: str, visibility: Visibility = PUBLIC) -> RevealEvent:
    """``player``'s role, shown to everyone (or to ``visibility``'s audience)."""
    return RevealEvent(
        **stamp(state, visibility=visibility), player=player, role=state.roles[player]
    )


def eliminate(state: S, target: str, cause: str, events: list[Event], reveal: bool) -> S:
    """``target`` leaves the game by ``cause``; with ``reveal`` its role is shown to all."""
    events.append(EliminationEvent(**stamp(state), target=target, cause=cause))
    if reveal:
        events.append(revealed(state, target))
    return replace(state, alive=tuple(p for p in state.alive if p != target))


# --- belief probes ------------------------------------------------------------------------


def belief_probe(players: Sequence[str], what: str) -> dict[str, ActionRequest]:
    """A private probe of each of ``players``: the probability that each other player is
    ``what`` (``a traitor``, ``evil``)."""
    return {
        player: ActionRequest(
            actor=player,
            purpose="belief",
            prompt=f"Privately: for each player listed, how likely is it (0 to 1) that they are "
            f"{what}? Nobody else sees this.",
            kinds=("belief",),
            targets=tuple(p for p in players if p != player),
            default=Belief(probs={}),
        )
        for player in players
    }


def probing(what: str) -> Callable[[object, SeatsState], Step]:
    """The plan of a belief-probe phase: every living player is asked, at once."""

    def plan(rules: object, state: SeatsState) -> Step:
        return together(state, belief_probe(state.alive, what))

    return plan


def probe_phase(what: str, then: str) -> Phase[PhasedRules[SeatsState, Any], SeatsState]:
    """A belief-probe phase: every living player reports P(``what``) for the others, then
    the game moves to ``then``."""

    def apply(
        rules: PhasedRules[SeatsState, Any],
        state: SeatsState,
        actions: Mapping[str, Action],
        events: list[Event],
    ) -> SeatsState:
        events += belief_events(state, actions)
        return rules.goto(state, then, events)

    return Phase(probing(what), apply, (then,))


def own_events(
    state: SeatsState, kind: Callable[..., Event], field: str, values: Mapping[str, Any]
) -> list[Event]:
    """One event of ``kind`` per actor, private to it, with its value as ``field``."""
    return [
        kind(**stamp(state, actor, Private(agent=actor)), **{field: value})
        for actor, value in values.items()
    ]


def belief_events(
    state: SeatsState, actions: Mapping[str, Action], kind: Callable[..., Event] = BeliefEvent
) -> list[Event]:
    """One private event per probed player with its report (empty if it gave none); ``kind``
    is ``BeliefEvent`` or a scenario's own (Avalon's P(Merlin))."""
    reports = {
        player: dict(sorted(action.probs.items())) if isinstance(action, Belief) else {}
        for player, action in sorted(actions.items())
    }
    return own_events(state, kind, "probs", reports)


# --- winning ------------------------------------------------------------------------------


def survivors(events: Sequence[Event]) -> tuple[dict[str, str], set[str]]:
    """Every player's latest role and the players still alive, from the log alone."""
    roles: dict[str, str] = {}
    alive: set[str] = set()
    for event in events:
        if isinstance(event, PhaseEvent) and event.phase == "setup":
            alive = set(event.alive)
        elif isinstance(event, RoleEvent):
            roles[event.player] = event.role
        elif isinstance(event, EliminationEvent):
            alive.discard(event.target)
    return roles, alive


class TeamRules(PhasedRules[T, C]):
    """Rules of a hidden team against the rest (The Traitors, Werewolf): the team knows
    itself and talks in its own channel. The rest win once no member of the team lives,
    the team once it equals or outnumbers them; the sides are the words' two factions."""

    channel: ClassVar[str]
    """The team's private channel."""
    endings: ClassVar[tuple[str, str]]
    """Why the rest won (the team is gone), and why the team won (parity)."""

    def seat(
        self,
        state_class: type[T],
        players: tuple[str, ...],
        roles: Mapping[str, str],
        rng: random.Random,
    ) -> T:
        """The setup state: the team in its channel, the rules' own stream seeded by ``rng``."""
        team = frozenset(p for p in players if roles[p] in self.words.hidden_roles())
        channels = {self.channel: team}
        return state_class.deal(players, roles, channels=channels, seed=rng.getrandbits(64))

    def setup_events(self, state: T) -> list[Event]:
        """The setup announcement and each player's role; the team learns its members."""
        team = self.words.hidden_roles()
        roles = [role_event(state, p, allies(state, p, *team)) for p in state.players]
        return [opening(state), *roles]

    def sides(self) -> tuple[str, str]:
        """The team's faction and the rest's, as winners."""
        factions = self.words.factions
        hidden = next(f.name for f in factions if f.hidden)
        return hidden, next(f.name for f in factions if not f.hidden)

    def winner(self, roles: Mapping[str, str], alive: Iterable[str]) -> str | None:
        """The side that has won with ``alive`` left, or None."""
        living = list(alive)
        team = sum(roles[p] in self.words.hidden_roles() for p in living)
        hidden, rest = self.sides()
        if team == 0:
            return rest
        return hidden if team >= len(living) - team else None

    def parity(self, state: T, played: int) -> Outcome | None:
        """How the game ended after ``played`` rounds, if one side has won."""
        winner = self.winner(state.roles, state.alive)
        if winner is None:
            return None
        cleared, overrun = self.endings
        return Outcome(winner, cleared if winner == self.sides()[1] else overrun, played)

    def judge(self, events: Sequence[Event]) -> str | None:
        """The winner from the log alone: roles from role events, deaths from eliminations."""
        return self.winner(*survivors(events))
