"""A Kaggle Werewolf replay's records as Werewolf's events.

Kaggle's Night n is our round n + 1 (phase ``night``, its death announced at ``dawn``), its
Day d our round d (``bid`` and ``debate``, then ``exile_vote``). Each action's reasoning and
perceived threat level become events private to the actor. Who sees an event follows the
record's ``visible_to``: a record every living player saw is public, one the living
werewolves saw is on the werewolves' channel, one player's is private. The moderator's echo
of each action (a ``dict`` copy carrying the model's prompt, completion and cost) is
dropped; :class:`Usage` counts its tokens and cost per seat.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scenarios.common import leaders, tally
from scenarios.werewolf import (
    CHANNEL,
    EXILE,
    KILL,
    WEREWOLF,
    WOLVES,
    BidEvent,
    SaveEvent,
    TeamRevealEvent,
    ThreatEvent,
)
from scenarios.werewolf_kaggle.records import ABSTAIN, MODERATOR, Record
from scenarios.werewolf_kaggle.table import Table, role, team
from traitors.game.events import (
    GOD_ONLY,
    PUBLIC,
    Direct,
    EliminationEvent,
    Event,
    GameOverEvent,
    PhaseEvent,
    Private,
    ReasoningEvent,
    RevealEvent,
    RoleEvent,
    SpeakEvent,
    Visibility,
    VoteEvent,
    VoteResultEvent,
)
from traitors.store.imported import BadReplay
from traitors.store.manifest import SeatHealth

AGENT_ERROR = "an agent error ended the game (terminated_with_agent_error)"


@dataclass
class Usage:
    """Model calls, tokens and cost per seat, from the echo records."""

    seats: dict[str, dict[str, int | float]] = field(default_factory=dict)

    def add(self, player: str, data: Mapping[str, Any]) -> None:
        """Count one echo record's call, if it records one."""
        counts = [data.get(k) for k in ("cost", "prompt_tokens", "completion_tokens")]
        if all(c is None for c in counts):
            return
        cost, prompt, completion = (c if isinstance(c, int | float) else 0 for c in counts)
        seat = self.seats.setdefault(
            player, {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost": 0.0}
        )
        seat["calls"] += 1
        seat["prompt_tokens"] += int(prompt)
        seat["completion_tokens"] += int(completion)
        seat["cost"] += float(cost)

    def total(self) -> dict[str, int | float]:
        """Every seat's counts added up (empty when no seat called a model)."""
        keys = ("calls", "prompt_tokens", "completion_tokens", "cost")
        if not self.seats:
            return {}
        return {k: sum(seat[k] for seat in self.seats.values()) for k in keys}


class Translator:
    """Turns one game's records, in order, into Werewolf's events."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.events: list[Event] = []
        self.dead: list[str] = []
        self.round = 0
        self.phase = "setup"
        self.ballots: dict[str, str | None] = {}
        self.usage = Usage()
        self.health = {p: SeatHealth() for p in table.players}
        self.over: GameOverEvent | None = None
        self._open()

    # --- the table ---------------------------------------------------------------------

    def _open(self) -> None:
        players = self.table.players
        self.events.append(PhaseEvent(round=0, phase="setup", alive=players))
        wolves = self.table.living((), WEREWOLF)
        for player in players:
            wolf = self.table.roles[player] == WEREWOLF
            self.events.append(
                RoleEvent(
                    round=0,
                    phase="setup",
                    visibility=Private(agent=player),
                    player=player,
                    role=self.table.roles[player],
                    allies=tuple(w for w in wolves if w != player) if wolf else (),
                    channels=(CHANNEL,) if wolf else (),
                )
            )

    def seen_by(self, record: Record, wolves: bool = False) -> Visibility:
        """Who saw ``record``: everyone alive (public), the living werewolves (their
        channel, for the werewolves' own records: ``wolves``), one player (private), some
        players, or nobody."""
        if record.public:
            return PUBLIC
        seen = {self.table.name(p) for p in record.visible_to}
        if not seen:
            return GOD_ONLY
        alive = self.table.living(self.dead)
        if set(alive) <= seen:
            return PUBLIC
        if wolves and seen == set(self.table.living(self.dead, WEREWOLF)):
            return WOLVES
        if len(seen) == 1:
            return Private(agent=seen.pop())
        return Direct(recipients=tuple(p for p in self.table.players if p in seen))

    def _enter(self, record: Record, phase: str) -> None:
        """Announce ``phase`` of the record's round when the game moves into it."""
        if (record.round, phase) != (self.round, self.phase):
            self.round, self.phase = record.round, phase
            alive = self.table.living(self.dead)
            self.events.append(PhaseEvent(round=self.round, phase=phase, alive=alive))

    def _stamp(self, record: Record, phase: str, **fields: Any) -> dict[str, Any]:
        return {"round": record.round, "phase": phase, **fields}

    # --- records -----------------------------------------------------------------------

    def add(self, record: Record) -> None:
        """Translate one record (in the replay's order)."""
        if record.echo:
            self.usage.add(self.table.name(record.data["actor_id"]), record.data)
            return
        handler = _HANDLERS.get(record.name)
        if handler is not None:
            handler(self, record)

    def _decision(self, record: Record, phase: str) -> str:
        """The actor of an action record, with its reasoning and threat level (private)."""
        actor = self.table.name(record.data.get("actor_id", record.source))
        if record.source != MODERATOR and self.table.name(record.source) != actor:
            raise BadReplay(f"a {record.name} record of {record.source!r} acts for {actor!r}")
        self.health[actor].decisions += 1
        private = self._stamp(record, phase, actor=actor, visibility=Private(agent=actor))
        reasoning = record.data.get("reasoning")
        if isinstance(reasoning, str) and reasoning.strip():
            self.events.append(ReasoningEvent(**private, text=reasoning))
        level = record.data.get("perceived_threat_level")
        if isinstance(level, str) and level:
            self.events.append(ThreatEvent(**private, level=level))
        return actor

    def _target(self, value: Any) -> str | None:
        return None if value in (None, ABSTAIN, "") else self.table.name(value)

    def _night_start(self, record: Record) -> None:
        self._enter(record, "night")

    def _speech(self, record: Record) -> None:
        message = record.data.get("message")
        if not isinstance(message, str):
            raise BadReplay("a discussion record has no message")
        self._enter(record, "debate")
        actor = self._decision(record, "debate")
        self.events.append(
            SpeakEvent(
                **self._stamp(record, "debate", actor=actor, visibility=self.seen_by(record)),
                text=message,
            )
        )

    def _bid(self, record: Record) -> None:
        amount = record.data.get("bid_amount")
        if not isinstance(amount, int):
            raise BadReplay("a bid record has no bid_amount")
        self._enter(record, "bid")
        actor = self._decision(record, "bid")
        vis = self.seen_by(record)
        self.events.append(
            BidEvent(**self._stamp(record, "bid", actor=actor, visibility=vis), amount=amount)
        )

    def _vote(self, record: Record) -> None:
        phase, purpose = ("night", KILL) if record.night else ("exile_vote", EXILE)
        self._enter(record, phase)
        actor = self._decision(record, phase)
        target = self._target(record.data.get("target_id"))
        self.ballots[actor] = target
        vis = self.seen_by(record, wolves=record.night)
        self.events.append(
            VoteEvent(
                **self._stamp(record, phase, actor=actor, visibility=vis),
                purpose=purpose,
                ballot=0,
                target=target,
            )
        )

    def _night_choice(self, record: Record, purpose: str) -> None:
        self._enter(record, "night")
        actor = self._decision(record, "night")
        target = self._target(record.data.get("target_id"))
        vis = Private(agent=actor)
        self.events.append(
            VoteEvent(
                **self._stamp(record, "night", actor=actor, visibility=vis),
                purpose=purpose,
                ballot=0,
                target=target,
            )
        )

    def _heal(self, record: Record) -> None:
        self._night_choice(record, "protect")

    def _inspect(self, record: Record) -> None:
        self._night_choice(record, "investigate")

    def _inspected(self, record: Record) -> None:
        seer = self.table.name(record.data.get("actor_id"))
        player = self.table.name(record.data.get("target_id"))
        stamp = self._stamp(record, "night", visibility=Private(agent=seer))
        self.events.append(
            self._reveal(stamp, player, record.data.get("role"), record.data.get("team"))
        )

    def _reveal(self, stamp: dict[str, Any], player: str, role_name: Any, team_name: Any) -> Event:
        if role_name is not None:
            return RevealEvent(**stamp, player=player, role=self._true_role(player, role_name))
        return TeamRevealEvent(**stamp, player=player, team=team(team_name))

    def _true_role(self, player: str, role_name: Any) -> str:
        shown = role(role_name)
        if shown != self.table.roles[player]:
            raise BadReplay(
                f"{player} is shown as {shown} but was dealt {self.table.roles[player]}"
            )
        return shown

    def _saved(self, record: Record) -> None:
        target = self.table.name(record.data.get("saved_player_id"))
        vis = self.seen_by(record)
        self.events.append(SaveEvent(**self._stamp(record, "night", visibility=vis), target=target))

    def _result(self, record: Record, purpose: str, decided: str | None) -> None:
        """The tally of the ballots just cast and what it decided."""
        counts = tally(self.ballots)
        top = leaders(counts)
        tied = top if len(top) > 1 else ()
        phase = "night" if purpose == KILL else "exile_vote"
        vis = self.seen_by(record, wolves=purpose == KILL)
        self.events.append(
            VoteResultEvent(
                **self._stamp(record, phase, visibility=vis),
                purpose=purpose,
                ballot=0,
                tally=counts,
                decided=decided,
                tied=tied,
                random_pick=bool(tied) and decided is not None,
            )
        )
        self.ballots = {}

    def _vote_result(self, record: Record) -> None:
        if record.night:
            decided = self._target(record.data.get("elected_target_player_id"))
            self._result(record, KILL, decided)
        elif record.data.get("outcome") == "no_exile":
            self._enter(record, "exile_vote")
            self._result(record, EXILE, None)

    def _elimination(self, record: Record) -> None:
        data = record.data
        if "elected_player_id" in data:  # an exile
            target = self._target(data["elected_player_id"])
            if target is None:
                return
            self._enter(record, "exile_vote")
            self._result(record, EXILE, target)
            self._eliminate(record, target, "exile_vote", EXILE, "elected_player")
        elif (target := self._target(data.get("eliminated_player_id"))) is not None:
            self._eliminate(record, target, "dawn", KILL, "eliminated_player")

    def _eliminate(self, record: Record, target: str, phase: str, cause: str, prefix: str) -> None:
        if target in self.dead:
            raise BadReplay(f"{target} is eliminated twice")
        stamp = self._stamp(record, phase)
        self.events.append(EliminationEvent(**stamp, target=target, cause=cause))
        self.dead.append(target)
        role_name, team_name = (
            record.data.get(f"{prefix}_role_name"),
            record.data.get(f"{prefix}_team_name"),
        )
        if role_name is not None or team_name is not None:
            self.events.append(self._reveal(stamp, target, role_name, team_name))

    def _dealt(self, record: Record) -> None:
        player = self.table.name(record.data.get("player_id"))
        self._true_role(player, record.data.get("role"))

    def _game_end(self, record: Record) -> None:
        winner = team(record.data.get("winner_team"))
        reason = str(record.data.get("reason") or "game over").removeprefix("Reason: ")
        self.over = GameOverEvent(round=self.round, phase="game_over", winner=winner, reason=reason)
        self.events.append(self.over)

    def finish(self, agent_error: bool) -> list[Event]:
        """The events, ended by the game-end record (or, after an agent error, a game over
        without a winner)."""
        if self.over is None or agent_error:
            if not agent_error:
                raise BadReplay("the game has no end record (the replay is incomplete)")
            if self.over is None:
                self.over = GameOverEvent(
                    round=self.round, phase="game_over", winner=None, reason=AGENT_ERROR
                )
                self.events.append(self.over)
        return self.events


def translate(table: Table, records: Iterable[Record], agent_error: bool) -> Translator:
    """Every record of a game translated; the translator holds the events, usage and health."""
    translator = Translator(table)
    for record in records:
        translator.add(record)
    translator.finish(agent_error)
    return translator


_HANDLERS = {
    "game_start": Translator._dealt,
    "night_start": Translator._night_start,
    "discussion": Translator._speech,
    "bid_action": Translator._bid,
    "vote_action": Translator._vote,
    "heal_action": Translator._heal,
    "inspect_action": Translator._inspect,
    "inspect_result": Translator._inspected,
    "heal_result": Translator._saved,
    "vote_result": Translator._vote_result,
    "elimination": Translator._elimination,
    "game_end": Translator._game_end,
}
"""Record name -> how it is translated; the others (requests, orders, phase changes,
announcements) say nothing our events do not."""
