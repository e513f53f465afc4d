"""The rules of Avalon: dealing roles and sight, and the phase table."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import ClassVar

from scenarios.avalon import referee
from scenarios.avalon.config import AvalonConfig
from scenarios.avalon.describe import describe
from scenarios.avalon.kinds import (
    AssassinationEvent,
    MerlinBeliefEvent,
    ProposalEvent,
    Propose,
    QuestBoardEvent,
    QuestCard,
    QuestCardEvent,
    QuestResultEvent,
    Sight,
    TeamVote,
    TeamVoteEvent,
    TeamVoteResultEvent,
    VisionEvent,
)
from scenarios.avalon.state import AvalonState
from scenarios.avalon.table import (
    APPROVE,
    ASSASSIN,
    EVIL,
    FAIL,
    GOOD,
    MAX_REJECTIONS,
    MERLIN,
    MINION,
    MORDRED,
    MORGANA,
    OBERON,
    PERCIVAL,
    QUESTS,
    REJECT,
    SERVANT,
    SUCCESS,
    TEAM_SIZES,
    WORDS,
    fails_needed,
    team_size,
)
from scenarios.common import (
    GAME_OVER,
    Phase,
    PhasedRules,
    PhaseTable,
    automatic,
    belief_events,
    opening,
    own_events,
    probe_phase,
    revealed,
    role_event,
    stamp,
    take_turn,
    talk,
    together,
    turn,
)
from traitors.game.actions import Action, ActionBase, ActionRequest, Belief, Vote
from traitors.game.events import Event, EventBase, Private
from traitors.game.rules import Outcome, RulesConfig, Step
from traitors.game.words import Words


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


def from_seat(players: tuple[str, ...], start: int, count: int) -> tuple[str, ...]:
    """``count`` players in seat order, from seat ``start`` on (round the table)."""
    return tuple(players[(start + i) % len(players)] for i in range(count))


class Avalon(PhasedRules[AvalonState, AvalonConfig]):
    """Rules of The Resistance: Avalon."""

    name: ClassVar[str] = "avalon"
    config_model: ClassVar[type[RulesConfig]] = AvalonConfig
    roles: ClassVar[tuple[str, ...]] = tuple(WORDS.roles)
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
        return describe(self.config)

    # --- setup -------------------------------------------------------------------------

    def initial_state(self, players: Sequence[str], rng: random.Random) -> AvalonState:
        players = tuple(players)
        if len(players) != self.config.n_players:
            raise ValueError(f"{len(players)} seats for a table of {self.config.n_players}")
        dealt = list(self.in_play())
        rng.shuffle(dealt)
        roles = dict(zip(players, dealt, strict=True))
        return AvalonState.deal(
            players, roles, seed=rng.getrandbits(64), leader=rng.randrange(len(players))
        )

    def setup_events(self, state: AvalonState) -> list[Event]:
        n = len(state.players)
        board = QuestBoardEvent(
            round=0,
            phase="setup",
            sizes=TEAM_SIZES[n],
            fails_needed=tuple(fails_needed(n, q) for q in range(1, QUESTS + 1)),
        )
        events: list[Event] = [opening(state), board]
        for player in state.players:
            events.append(role_event(state, player, state.known_allies(player)))
            sight = vision(state, player)
            if sight is not None:
                events.append(sight)
        return events

    def _begin(
        self, state: AvalonState, actions: Mapping[str, Action], events: list[Event]
    ) -> AvalonState:
        return self.goto(replace(state, round=1), "proposal", events, attempt=1)

    # --- the proposal and its discussion -------------------------------------------------

    def _plan_proposal(self, state: AvalonState) -> Step:
        size = team_size(len(state.players), state.round)
        request = ActionRequest(
            actor=state.players[state.leader],
            purpose="proposal",
            prompt=f"You lead quest {state.round}: propose a team of {size} players (you may "
            f"include yourself). This is proposal {state.attempt} of {MAX_REJECTIONS}; "
            f"{state.rejected} team(s) of this quest were rejected so far.",
            kinds=("propose",),
            targets=state.players,
            picks=size,
            default=Propose(team=from_seat(state.players, state.leader, size)),
        )
        return turn(state, request)

    def _apply_proposal(
        self, state: AvalonState, actions: Mapping[str, Action], events: list[Event]
    ) -> AvalonState:
        leader = state.players[state.leader]
        action = actions[leader]
        assert isinstance(action, Propose)
        events.append(
            ProposalEvent(**stamp(state, leader), team=action.team, attempt=state.attempt)
        )
        state = replace(state, team=action.team)
        if self.config.discussion:
            order = from_seat(state.players, state.leader, len(state.players))
            return self.goto(state, "discussion", events, queue=order)
        return self._after_discussion(state, events)

    def _plan_speech(self, state: AvalonState) -> Step:
        speaker = state.queue[0]
        prompt = (
            f"Discuss the proposed team {', '.join(state.team)} for quest {state.round}. "
            "Speak to everyone; you may accuse, defend or claim a role."
        )
        others = tuple(p for p in state.players if p != speaker)
        roles = tuple(sorted(set(self.in_play()), key=self.roles.index))
        limit = self.config.max_speech_chars
        return turn(state, talk(speaker, "discussion", prompt, limit, others, roles))

    def _apply_speech(
        self, state: AvalonState, actions: Mapping[str, Action], events: list[Event]
    ) -> AvalonState:
        state = take_turn(state, actions, events)
        return state if state.queue else self._after_discussion(state, events)

    def _after_discussion(self, state: AvalonState, events: list[Event]) -> AvalonState:
        if self.config.belief_probe:
            return self.goto(state, "belief_probe", events)
        return self.goto(state, "team_vote", events)

    # --- the team vote -------------------------------------------------------------------

    def _plan_team_vote(self, state: AvalonState) -> Step:
        prompt = (
            f"Vote in public to approve or reject the team {', '.join(state.team)} "
            f"proposed by {state.players[state.leader]} for quest {state.round}. Teams "
            f"rejected in a row so far: {state.rejected}; a {MAX_REJECTIONS}th rejection "
            "makes evil win."
        )
        requests = {
            voter: ActionRequest(
                actor=voter,
                purpose="team_vote",
                prompt=prompt,
                kinds=("team_vote",),
                choices=(APPROVE, REJECT),
                default=TeamVote(approve=True),
            )
            for voter in state.players
        }
        return together(state, requests)

    def _apply_team_vote(
        self, state: AvalonState, actions: Mapping[str, Action], events: list[Event]
    ) -> AvalonState:
        ballots = {p: isinstance(a, TeamVote) and a.approve for p, a in sorted(actions.items())}
        for voter, approve in ballots.items():
            events.append(
                TeamVoteEvent(**stamp(state, voter), attempt=state.attempt, approve=approve)
            )
        approvals = sum(ballots.values())
        approved = approvals * 2 > len(ballots)
        rejected = 0 if approved else state.rejected + 1
        events.append(
            TeamVoteResultEvent(
                **stamp(state),
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
            return self.goto(state, "quest", events)
        if rejected >= MAX_REJECTIONS:
            reason = f"{MAX_REJECTIONS} teams rejected in a row"
            return self._end(state, Outcome(EVIL, reason, state.round), events)
        return self.goto(state, "proposal", events, attempt=state.attempt + 1, team=())

    # --- the quest ----------------------------------------------------------------------

    def _plan_quest(self, state: AvalonState) -> Step:
        needed = fails_needed(len(state.players), state.round)
        prompt = (
            f"You are on quest {state.round} with {', '.join(state.team)}. Play a "
            f"card in secret: {SUCCESS} or {FAIL} (good players can only play {SUCCESS}). "
            f"{needed} fail card(s) fail the quest."
        )
        evil = state.evil()
        requests = {
            member: ActionRequest(
                actor=member,
                purpose="quest",
                prompt=prompt,
                kinds=("quest_card",),
                choices=(SUCCESS, FAIL) if member in evil else (SUCCESS,),
                default=QuestCard(card=SUCCESS),
            )
            for member in sorted(state.team)
        }
        return together(state, requests)

    def _apply_quest(
        self, state: AvalonState, actions: Mapping[str, Action], events: list[Event]
    ) -> AvalonState:
        cards = {
            p: (a.card if isinstance(a, QuestCard) else SUCCESS) for p, a in sorted(actions.items())
        }
        events += own_events(state, QuestCardEvent, "card", cards)
        fails = sum(card == FAIL for card in cards.values())
        needed = fails_needed(len(state.players), state.round)
        succeeded = fails < needed
        events.append(
            QuestResultEvent(
                **stamp(state),
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
                return self.goto(state, "merlin_probe", events)
            return self.goto(state, "assassination", events)
        if state.round >= self.config.max_rounds:
            outcome = Outcome(None, "round limit reached", state.round, truncated=True)
            return self._end(state, outcome, events)
        if probe == "each_round":
            return self.goto(state, "merlin_probe", events)
        return self._next_quest(state, events)

    def _next_quest(self, state: AvalonState, events: list[Event]) -> AvalonState:
        state = replace(state, round=state.round + 1)
        return self.goto(state, "proposal", events, attempt=1, rejected=0, team=())

    # --- the end of the game -------------------------------------------------------------

    def _plan_merlin_probe(self, state: AvalonState) -> Step:
        requests = {
            player: ActionRequest(
                actor=player,
                purpose="merlin_belief",
                prompt="Privately: for each player below, how likely is it (0 to 1) that they "
                "are Merlin? Nobody else sees this.",
                kinds=("belief",),
                targets=state.strangers(player),
                default=Belief(probs={}),
            )
            for player in state.evil()
        }
        return together(state, requests)

    def _apply_merlin_probe(
        self, state: AvalonState, actions: Mapping[str, Action], events: list[Event]
    ) -> AvalonState:
        events += belief_events(state, actions, MerlinBeliefEvent)
        if state.successes() >= 3:
            return self.goto(state, "assassination", events)
        return self._next_quest(state, events)

    def _plan_assassination(self, state: AvalonState) -> Step:
        assassin = state.holder(ASSASSIN)
        assert assassin is not None
        targets = state.strangers(assassin)
        request = ActionRequest(
            actor=assassin,
            purpose="assassinate",
            prompt="Three quests succeeded. As the Assassin, name the player you believe is "
            "Merlin: if you are right, evil wins.",
            kinds=("vote",),
            targets=targets,
            default=Vote(target=targets[0]),
        )
        return turn(state, request)

    def _apply_assassination(
        self, state: AvalonState, actions: Mapping[str, Action], events: list[Event]
    ) -> AvalonState:
        assassin = state.holder(ASSASSIN)
        assert assassin is not None
        action = actions[assassin]
        assert isinstance(action, Vote)
        hit = state.roles[action.target] == MERLIN
        events.append(AssassinationEvent(**stamp(state, assassin), target=action.target, hit=hit))
        outcome = (
            Outcome(EVIL, "the assassin found Merlin", state.round)
            if hit
            else Outcome(GOOD, "three quests succeeded and Merlin stayed hidden", state.round)
        )
        return self._end(state, outcome, events)

    def _end(self, state: AvalonState, outcome: Outcome, events: list[Event]) -> AvalonState:
        """Game over: reveal every role (if configured) and record the outcome."""
        if self.config.reveal_at_end:
            events += [revealed(state, player) for player in state.players]
        return self.finish(state, outcome)

    phase_table: ClassVar[PhaseTable] = {
        "setup": Phase(automatic, _begin, ("proposal",)),
        "proposal": Phase(
            _plan_proposal, _apply_proposal, ("discussion", "belief_probe", "team_vote")
        ),
        "discussion": Phase(_plan_speech, _apply_speech, ("belief_probe", "team_vote")),
        "belief_probe": probe_phase("evil", then="team_vote"),
        "team_vote": Phase(_plan_team_vote, _apply_team_vote, ("quest", "proposal", GAME_OVER)),
        "quest": Phase(
            _plan_quest,
            _apply_quest,
            ("proposal", "merlin_probe", "assassination", GAME_OVER),
        ),
        "merlin_probe": Phase(
            _plan_merlin_probe, _apply_merlin_probe, ("proposal", "assassination")
        ),
        "assassination": Phase(_plan_assassination, _apply_assassination, (GAME_OVER,)),
    }
    """Phase -> how it plans, how it applies, where it may go."""

    # --- judging and auditing ---------------------------------------------------------

    def judge(self, events: Sequence[Event]) -> str | None:
        """The winner from the god's-eye log alone (see ``referee.judge``)."""
        return referee.judge(events)

    def audit(self, state: AvalonState, event: Event, viewer: str) -> str | None:
        """The game's secrets (see ``referee.audit``)."""
        return referee.audit(state, event, viewer)
