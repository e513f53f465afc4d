"""A Kaggle Werewolf replay's records as Werewolf's events, in the order our engine logs them.

Kaggle's Night n is our round n + 1, its Day d our round d. Each action becomes a decision
as our engine records it (the actor's reasoning, its perceived threat level as a note, the
god-only ``act``) followed by what the rules derive from it, so that the imported log
restores in our engine (``EpisodeCore.restore``) and can be forked. A night is held back
until it ends and written in our order: the werewolves' votes (phase ``wolf_vote`` when
sequential), then the doctor's and the seer's choices (phase ``night``, by name), the
count, the protection, the save, the vision, the death at ``dawn``. Kaggle's random draws
(a random first speaker or voter, a random tie-break, a tied bid) are kept in ``draws`` for
the rule option of that name. Who sees an event follows the record's ``visible_to``. The
moderator's echo of each action is dropped; :class:`Usage` counts its tokens and cost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scenarios.common import leaders, tally
from scenarios.werewolf import (
    CHANNEL,
    DOCTOR,
    EXILE,
    KILL,
    SEER,
    WEREWOLF,
    WOLVES,
    Bid,
    BidEvent,
    SaveEvent,
    TeamRevealEvent,
    ThreatEvent,
    Werewolf,
)
from scenarios.werewolf_kaggle.records import ABSTAIN, MODERATOR, Record
from scenarios.werewolf_kaggle.rules import rules_from
from scenarios.werewolf_kaggle.table import Table, role, team
from traitors.game.actions import ActionBase, Pass, Speak, Vote
from traitors.game.events import (
    GOD_ONLY,
    PUBLIC,
    ActEvent,
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


@dataclass(frozen=True)
class Move:
    """One decision: the actor, the action applied, its reasoning and threat level."""

    actor: str
    action: ActionBase
    reasoning: str | None = None
    threat: str | None = None

    @property
    def target(self) -> str | None:
        """The player voted for (None: a pass)."""
        return self.action.target if isinstance(self.action, Vote) else None


@dataclass
class Night:
    """One night's records, held until the night ends."""

    round: int
    wolves: list[tuple[Move, Visibility]] = field(default_factory=list)
    choices: dict[str, Move] = field(default_factory=dict)
    """The doctor's and the seer's moves."""
    vision: Event | None = None
    elected: str | None = None
    saved: Visibility | None = None
    deaths: list[Record] = field(default_factory=list)


class Translator:
    """Turns one game's records, in order, into Werewolf's events."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.rules = rules_from(table.configuration, table, 0) if table.configuration else {}
        self.events: list[Event] = []
        self.dead: list[str] = []
        self.round = 0
        self.phase = "setup"
        self.ballots: dict[str, str | None] = {}
        self.usage = Usage()
        self.health = {p: SeatHealth() for p in table.players}
        self.over: GameOverEvent | None = None
        self.draws: dict[str, str] = {}
        """The random draws Kaggle's engine made (``WerewolfConfig.draws``)."""
        self.longest = 0
        """The longest speech, in characters."""
        self.night: Night | None = None
        self.protected: str | None = None
        self.queue: list[str] = []
        """Speakers still to speak today (round-robin), from the discussion order."""
        self.votes: list[Move] = []
        """A simultaneous exile vote's moves, held until its result."""
        self.bids: list[Move] = []
        self.speaker: str | None = None
        """The winner of the last bid, yet to speak (bidding)."""
        self.turn = 0
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

    def option(self, name: str, default: Any) -> Any:
        """A rule option of the game (its default when the replay has no configuration)."""
        return self.rules.get(name, default)

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

    def _enter(self, round_: int, phase: str) -> None:
        """Announce ``phase`` of ``round_`` as our engine does on moving into it."""
        self.round, self.phase = round_, phase
        self.events.append(PhaseEvent(round=round_, phase=phase, alive=self.alive()))

    def alive(self) -> tuple[str, ...]:
        """The living players, in seat order."""
        return self.table.living(self.dead)

    def _decide(self, move: Move, phase: str) -> None:
        """``move`` as our engine records a decision: reasoning, threat note, act."""
        head = {"round": self.round, "phase": phase, "actor": move.actor}
        private = {**head, "visibility": Private(agent=move.actor)}
        if move.reasoning:
            self.events.append(ReasoningEvent(**private, text=move.reasoning))
        if move.threat:
            self.events.append(ThreatEvent(**private, level=move.threat))
        self.events.append(ActEvent(**head, action=move.action))

    def _vote(self, move: Move, phase: str, purpose: str, visibility: Visibility) -> VoteEvent:
        return VoteEvent(
            round=self.round,
            phase=phase,
            actor=move.actor,
            visibility=visibility,
            purpose=purpose,
            ballot=0,
            target=move.target,
        )

    # --- records -----------------------------------------------------------------------

    def add(self, record: Record) -> None:
        """Translate one record (in the replay's order)."""
        if record.echo:
            self.usage.add(self.table.name(record.data["actor_id"]), record.data)
            return
        if not record.night and record.name != "game_end":
            self._end_night()
        handler = _HANDLERS.get(record.name)
        if handler is not None:
            handler(self, record)

    def _move(self, record: Record, action: ActionBase) -> Move:
        """The decision of an action record, with its reasoning and threat level."""
        actor = self.table.name(record.data.get("actor_id", record.source))
        if record.source != MODERATOR and self.table.name(record.source) != actor:
            raise BadReplay(f"a {record.name} record of {record.source!r} acts for {actor!r}")
        self.health[actor].decisions += 1
        reasoning = record.data.get("reasoning")
        level = record.data.get("perceived_threat_level")
        return Move(
            actor,
            action,
            reasoning if isinstance(reasoning, str) and reasoning.strip() else None,
            level if isinstance(level, str) and level else None,
        )

    def _ballot(self, record: Record) -> Vote | Pass:
        target = record.data.get("target_id")
        if target in (None, ABSTAIN, ""):
            return Pass()
        return Vote(target=self.table.name(target))

    def _tonight(self, record: Record) -> Night:
        if self.night is None:
            self.night = Night(record.round)
        return self.night

    # --- the night ---------------------------------------------------------------------

    def _night_start(self, record: Record) -> None:
        self._tonight(record)

    def _night_vote(self, record: Record) -> None:
        night = self._tonight(record)
        night.wolves.append((self._move(record, self._ballot(record)), self.seen_by(record, True)))

    def _night_choice(self, record: Record) -> None:
        move = self._move(record, self._ballot(record))
        if self.table.roles[move.actor] == DOCTOR and not self._may_protect(move):
            move = Move(move.actor, Pass(), move.reasoning, move.threat)  # Kaggle refused it
        self._tonight(record).choices[move.actor] = move

    def _may_protect(self, move: Move) -> bool:
        """Whether the doctor's choice is legal (else Kaggle's engine ignores it)."""
        target = move.target
        if target is None or target not in self.alive():
            return False
        if target == move.actor and not self.option("doctor_self_protect", False):
            return False
        return self.option("doctor_repeat", True) or target != self.protected

    def _inspected(self, record: Record) -> None:
        seer = self.table.name(record.data.get("actor_id"))
        player = self.table.name(record.data.get("target_id"))
        head = {"round": record.round, "phase": "night", "visibility": Private(agent=seer)}
        self._tonight(record).vision = self._reveal(
            head, player, record.data.get("role"), record.data.get("team")
        )

    def _saved(self, record: Record) -> None:
        self._tonight(record).saved = self.seen_by(record)

    def _end_night(self) -> None:
        """Write the night held back, in our engine's order; then open the day."""
        night, self.night = self.night, None
        if night is None:
            return
        sequential = self.option("wolf_voting", "sequential") == "sequential"
        if sequential:
            self._enter(night.round, "wolf_vote")
            self._draw_order(KILL, [m.actor for m, _ in night.wolves], "first_wolf")
            for move, seen in night.wolves:
                self._decide(move, "wolf_vote")
                self.events.append(self._vote(move, "wolf_vote", KILL, seen))
        self._enter(night.round, "night")
        for actor in self.table.living(self.dead, DOCTOR, SEER):
            night.choices.setdefault(actor, Move(actor, Pass()))
        acting = dict(night.choices)
        if not sequential:
            acting.update({m.actor: m for m, _ in night.wolves})
            for wolf in self.table.living(self.dead, WEREWOLF):
                acting.setdefault(wolf, Move(wolf, Pass()))
        for actor in sorted(acting):
            self._decide(acting[actor], "night")
        if not sequential:
            for move, seen in sorted(night.wolves, key=lambda w: w[0].actor):
                self.events.append(self._vote(move, "night", KILL, seen))
        self._kill_count(night)
        self._choices(night)
        for record in night.deaths:
            self._death(record)
        if not self._won():
            self._start_day()

    def _is_wolf(self, player: str) -> bool:
        return self.table.roles[player] == WEREWOLF

    def _won(self) -> bool:
        """Whether a side has won (no werewolf left, or as many as the others)."""
        alive = self.alive()
        wolves = sum(self._is_wolf(p) for p in alive)
        return wolves == 0 or wolves >= len(alive) - wolves

    def _kill_count(self, night: Night) -> None:
        ballots = {move.actor: move.target for move, _ in night.wolves}
        counts = tally(ballots)
        top = leaders(counts)
        village = tuple(p for p in self.alive() if not self._is_wolf(p))
        if self.option("kill_tie", "random") == "nobody":
            tied, picked = (top if len(top) > 1 else ()), False
        else:
            options = top or village
            tied = tuple(options) if len(options) > 1 else ()
            picked = bool(tied)
            if picked and night.elected is not None:
                self.draws[f"pick:{KILL}:{night.round}"] = night.elected
        self.events.append(
            VoteResultEvent(
                round=night.round,
                phase="night",
                visibility=WOLVES,
                purpose=KILL,
                ballot=0,
                tally=counts,
                decided=night.elected,
                tied=tied,
                random_pick=picked,
            )
        )

    def _choices(self, night: Night) -> None:
        """The doctor's protection (and save), then the seer's vision, as our engine logs them."""
        for actor, move in sorted(night.choices.items()):
            if self.table.roles[actor] == DOCTOR:
                self.events.append(self._vote(move, "night", "protect", Private(agent=actor)))
                self.protected = move.target
                if night.saved is not None:
                    save = SaveEvent(
                        round=night.round,
                        phase="night",
                        actor=actor,
                        visibility=Private(agent=actor),
                        target=move.target or "",
                    )
                    self.events.append(save)
        for actor, move in sorted(night.choices.items()):
            if self.table.roles[actor] == SEER:
                self.events.append(self._vote(move, "night", "investigate", Private(agent=actor)))
                if night.vision is not None:
                    self.events.append(night.vision)
        if not any(self.table.roles[a] == DOCTOR for a in night.choices):
            self.protected = None

    def _night_elected(self, record: Record) -> None:
        target = record.data.get("elected_target_player_id")
        self._tonight(record).elected = (
            None if target in (None, ABSTAIN, "") else (self.table.name(target))
        )

    def _death(self, record: Record) -> None:
        target = self.table.name(record.data.get("eliminated_player_id"))
        self._eliminate(record, target, "dawn", KILL, "eliminated_player")

    # --- the day -------------------------------------------------------------------------

    def _start_day(self) -> None:
        """Open the day as our engine does: bidding, round-robin talk, or the vote."""
        self.turn = 0
        if self.option("discussion", "round_robin") == "bidding":
            turns = self.option("debate_turns", 8)
            self._enter(self.round, "bid" if turns else "exile_vote")
        elif self.option("discussion_rounds", 2):
            self._enter(self.round, "debate")
        else:
            self._enter(self.round, "exile_vote")

    def _order(self, record: Record) -> None:
        """A discussion's speaking order (round-robin)."""
        ids = record.data.get("chat_order_of_player_ids") or []
        self.queue = [self.table.name(p) for p in ids]
        self._draw_order("debate", self.queue, "first_speaker")

    def _draw_order(self, name: str, order: Sequence[str], option: str) -> None:
        if order and self.option(option, "rotate") == "random":
            self.draws[f"order:{name}:{self.round}"] = order[0]

    def _speech(self, record: Record) -> None:
        message = record.data.get("message")
        if not isinstance(message, str):
            raise BadReplay("a discussion record has no message")
        self.longest = max(self.longest, len(message))
        move = self._move(record, Speak(text=message))
        bidding = self.option("discussion", "round_robin") == "bidding"
        if bidding and self.speaker is None:
            self._end_bids(move.actor)
        elif not bidding:
            self._pass_until(move.actor)
        self._decide(move, "debate")
        head = {"round": self.round, "phase": "debate", "actor": move.actor}
        self.events.append(SpeakEvent(**head, visibility=self.seen_by(record), text=message))
        if bidding:
            self._turn_done()

    def _turn_done(self) -> None:
        """A bidding turn is over: the next one is bid for, if any is left."""
        self.speaker = None
        self.turn += 1
        if self.turn < self.option("debate_turns", 8):
            self._enter(self.round, "bid")

    def _silent_speaker(self) -> None:
        """The bid's winner did not speak: it passed its turn."""
        if self.speaker is not None:
            self._decide(Move(self.speaker, Pass()), "debate")
            self._turn_done()

    def _pass_until(self, speaker: str | None) -> None:
        """Speakers skipped before ``speaker`` (all left, if None) pass their turn."""
        while self.queue and self.queue[0] != speaker:
            skipped = self.queue.pop(0)
            self._decide(Move(skipped, Pass()), "debate")
        if self.queue:
            self.queue.pop(0)

    def _bid(self, record: Record) -> None:
        amount = record.data.get("bid_amount")
        if not isinstance(amount, int):
            raise BadReplay("a bid record has no bid_amount")
        self._silent_speaker()
        self.bids.append(self._move(record, Bid(amount=amount)))

    def _bid_result(self, record: Record) -> None:
        winners = record.data.get("winner_player_ids") or []
        if winners:
            self.speaker = self.table.name(winners[0])
            self._end_bids(self.speaker)

    def _end_bids(self, speaker: str | None) -> None:
        """A bidding turn: the bids by name, their events, the winner's turn (None: nobody
        spoke, Kaggle's end of the talk when every bid is 0)."""
        bids = {m.actor: m for m in self.bids}
        self.bids = []
        if not bids:
            return
        for actor in sorted(bids):
            self._decide(bids[actor], "bid")
        amounts = {a: m.action.amount for a, m in bids.items() if isinstance(m.action, Bid)}
        for actor in sorted(bids):
            head = {"round": self.round, "phase": "bid", "actor": actor}
            amount = amounts.get(actor, 0)
            self.events.append(BidEvent(**head, visibility=Private(agent=actor), amount=amount))
        top = max(amounts.values(), default=0)
        if speaker is not None and sum(a == top for a in amounts.values()) > 1:
            self.draws[f"bid:{self.round}:{self.turn}"] = speaker
        if speaker is not None:
            self._enter(self.round, "debate")

    def _day_vote(self, record: Record) -> None:
        move = self._move(record, self._ballot(record))
        self._vote_opens()
        if self.option("voting", "sequential") == "simultaneous":
            self.votes.append(move)
            return
        if not self.ballots:
            self._draw_order(EXILE, [move.actor], "first_voter")
        self._decide(move, "exile_vote")
        self.ballots[move.actor] = move.target
        self.events.append(self._vote(move, "exile_vote", EXILE, self.seen_by(record)))

    def _vote_opens(self) -> None:
        """Close the talk (the speakers left pass, the bids held are written) and open the
        exile vote, once."""
        if self.phase != "exile_vote":
            self._pass_until(None)
            self._silent_speaker()
            self._end_bids(None)
            self._enter(self.round, "exile_vote")

    def _vote_action(self, record: Record) -> None:
        if record.night:
            self._night_vote(record)
        else:
            self._day_vote(record)

    def _counted(self) -> None:
        """A simultaneous vote's held moves (and a pass for each voter missing), by name."""
        if self.option("voting", "sequential") != "simultaneous":
            return
        moves = {m.actor: m for m in self.votes}
        self.votes = []
        for voter in self.alive():
            moves.setdefault(voter, Move(voter, Pass()))
        for voter in sorted(moves):
            self._decide(moves[voter], "exile_vote")
        for voter in sorted(moves):
            self.ballots[voter] = moves[voter].target
            self.events.append(self._vote(moves[voter], "exile_vote", EXILE, PUBLIC))

    def _exile_result(self, record: Record, exiled: str | None) -> None:
        """The tally of the day's ballots and what it decided, as our engine logs it."""
        self._vote_opens()
        self._counted()
        counts = tally(self.ballots)
        top = leaders(counts)
        picked = len(top) != 1 and exiled is not None
        if picked and len(top or self.alive()) > 1:
            self.draws[f"pick:{EXILE}:{self.round}"] = exiled or ""
        self.events.append(
            VoteResultEvent(
                round=self.round,
                phase="exile_vote",
                visibility=self.seen_by(record),
                purpose=EXILE,
                ballot=0,
                tally=counts,
                decided=exiled,
                tied=top if len(top) != 1 else (),
                random_pick=picked,
            )
        )
        self.ballots = {}

    def _no_exile(self, record: Record) -> None:
        if not record.night and record.data.get("outcome") == "no_exile":
            self._exile_result(record, None)

    def _vote_result(self, record: Record) -> None:
        if record.night:
            self._night_elected(record)
        else:
            self._no_exile(record)

    def _elimination(self, record: Record) -> None:
        data = record.data
        if "elected_player_id" in data:  # an exile
            target = self._target(data["elected_player_id"])
            if target is None:
                return
            self._exile_result(record, target)
            self._eliminate(record, target, "exile_vote", EXILE, "elected_player")
        elif record.night:
            self._tonight(record).deaths.append(record)

    def _target(self, value: Any) -> str | None:
        return None if value in (None, ABSTAIN, "") else self.table.name(value)

    def _eliminate(self, record: Record, target: str, phase: str, cause: str, prefix: str) -> None:
        if target in self.dead:
            raise BadReplay(f"{target} is eliminated twice")
        stamp = {"round": self.round, "phase": phase}
        self.events.append(EliminationEvent(**stamp, target=target, cause=cause))
        self.dead.append(target)
        role_name, team_name = (
            record.data.get(f"{prefix}_role_name"),
            record.data.get(f"{prefix}_team_name"),
        )
        if role_name is not None or team_name is not None:
            self.events.append(self._reveal(stamp, target, role_name, team_name))

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

    def _dealt(self, record: Record) -> None:
        player = self.table.name(record.data.get("player_id"))
        self._true_role(player, record.data.get("role"))

    def _game_end(self, record: Record) -> None:
        self._end_night()
        winner = team(record.data.get("winner_team"))
        cleared, overrun = Werewolf.endings
        reason = cleared if winner == "villagers" else overrun
        self.over = GameOverEvent(round=self.round, phase="game_over", winner=winner, reason=reason)
        self.events.append(self.over)

    def finish(self, agent_error: bool) -> list[Event]:
        """The events, ended by the game-end record (or, after an agent error, a game over
        without a winner)."""
        if self.over is None or agent_error:
            if not agent_error:
                raise BadReplay("the game has no end record (the replay is incomplete)")
            if self.over is None:
                self._end_night()
                self.over = GameOverEvent(
                    round=self.round, phase="game_over", winner=None, reason=AGENT_ERROR
                )
                self.events.append(self.over)
        return self.events


def translate(table: Table, records: Iterable[Record], agent_error: bool) -> Translator:
    """Every record of a game translated; the translator holds the events, usage, health
    and Kaggle's random draws."""
    translator = Translator(table)
    for record in records:
        translator.add(record)
    translator.finish(agent_error)
    return translator


_HANDLERS = {
    "game_start": Translator._dealt,
    "night_start": Translator._night_start,
    "discussion_order": Translator._order,
    "discussion": Translator._speech,
    "bid_action": Translator._bid,
    "bid_result": Translator._bid_result,
    "vote_action": Translator._vote_action,
    "heal_action": Translator._night_choice,
    "inspect_action": Translator._night_choice,
    "inspect_result": Translator._inspected,
    "heal_result": Translator._saved,
    "vote_result": Translator._vote_result,
    "elimination": Translator._elimination,
    "game_end": Translator._game_end,
}
"""Record name -> how it is translated; the others (requests, phase changes, announcements)
say nothing our events do not."""
