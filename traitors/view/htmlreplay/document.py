"""The JSON document of one episode, as the god view or one seat saw it: the replay's data.

Privacy by construction: a seat's document is built from ``player_view(events, seat)``
only, so it holds no manifest role, no event the seat did not see, no model call and
nothing that would let the game be re-run (no seed, no spec). A god document holds every
event the replay shows and, for its seat switch, each seat's steps and board folded from
that seat's ``player_view``. Player text goes through ``printable``; the page shows every
string as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from traitors.game.actions import Accuse, Defend
from traitors.game.board import Board, Tally, check_seat
from traitors.game.events import (
    BeliefEvent,
    EliminationEvent,
    Event,
    GameOverEvent,
    SpeakEvent,
    VoteResultEvent,
    player_view,
)
from traitors.game.lines import marker
from traitors.game.words import Words
from traitors.store.manifest import Manifest
from traitors.util.text import printable

FORMAT = 1
"""Version of the document's layout, read by ``replay.js``."""


def build_document(
    manifest: Manifest, events: Sequence[Event], seat: str | None = None
) -> dict[str, Any]:
    """The god view of the episode (``seat`` None), or only what ``seat`` saw of it.

    UnknownPlayer if ``seat`` is not at the table.
    """
    words = manifest.scenario_words()
    players = list(manifest.players)
    check_seat(seat, players)
    shown = list(events) if seat is None else player_view(events, seat)
    if seat is None:
        views = [_view(shown, words, None)]
        views += [_view(player_view(shown, name), words, name) for name in players]
    else:
        views = [_view(shown, words, seat)]
    kept = {seq for view in views for seq in view["steps"]}
    ballots = _ballots(shown, words, seat)
    return {
        "format": FORMAT,
        "episode": _episode(manifest, shown, seat),
        "players": players,
        "words": _words(words, shown),
        "events": [
            _record(event, words, ballots.get(event.seq, {}))
            for event in shown
            if event.seq in kept
        ],
        "views": views,
    }


def _episode(manifest: Manifest, shown: Sequence[Event], seat: str | None) -> dict[str, Any]:
    """What the header shows; the result only if the viewer saw the game end (god: always).
    A seat's export gives no status reason: its counts per seat could hint at roles."""
    over = next((e for e in shown if isinstance(e, GameOverEvent)), None)
    outcome = manifest.outcome
    result: dict[str, Any] | None = None
    if seat is None and outcome is not None:
        result = {"winner": outcome.winner, "reason": printable(outcome.reason)}
        result |= {"rounds": outcome.rounds, "truncated": outcome.truncated}
    elif over is not None:
        result = {"winner": over.winner, "reason": printable(over.reason)}
        result |= {"rounds": over.round, "truncated": over.truncated}
    return {
        "id": manifest.episode_id,
        "name": printable(manifest.name),
        "scenario": printable(manifest.scenario),
        "status": manifest.status,
        "status_reason": printable(manifest.status_reason or "") if seat is None else "",
        "played": manifest.played,
        "exported_as": seat,
        "result": result,
    }


def _words(words: Words, shown: Sequence[Event]) -> dict[str, Any]:
    """The scenario's words the page needs: hidden roles, phase names, what a belief asks
    about, the votes that eliminate."""
    causes = {e.cause for e in shown if isinstance(e, EliminationEvent)}
    return {
        "suspect": printable(words.suspect),
        "hidden_roles": sorted(Board(words).hidden_roles),
        "phases": {phase: words.phase(phase) for phase in sorted({e.phase for e in shown})},
        "elimination_votes": sorted(set(words.eliminations) | causes),
    }


def _view(events: Sequence[Event], words: Words, seat: str | None) -> dict[str, Any]:
    """One viewer's steps (events with a transcript line or a board change) and the board
    changes, folded by the spectator's ``Board`` from exactly the events given."""
    board = Board(words, seat)
    before = _snapshot(board)
    steps: list[int] = []
    changes: list[list[Any]] = []
    for event in events:
        board.update(event)
        after = _snapshot(board)
        change = _change(before, after)
        before = after
        if change:
            changes.append([event.seq, change])
        if change or event.line_text(words) is not None:
            steps.append(event.seq)
    return {"seat": seat, "steps": steps, "board": changes}


def _snapshot(board: Board) -> dict[str, Any]:
    seats = {
        name: {"fate": seat.fate, "role": seat.role, "revealed": seat.revealed}
        for name, seat in board.seats.items()
    }
    notes = {printable(label): printable(value) for label, value in board.notes.items()}
    return {"seats": seats, "notes": notes}


def _change(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The seats whose state changed, and the notes if they changed."""
    change: dict[str, Any] = {}
    seats = {n: s for n, s in after["seats"].items() if before["seats"].get(n) != s}
    if seats:
        change["seats"] = seats
    if after["notes"] != before["notes"]:
        change["notes"] = after["notes"]
    return change


def _ballots(events: Sequence[Event], words: Words, seat: str | None) -> dict[int, dict[str, Any]]:
    """What each event did to the vote being counted, for the votes panel: a ``vote`` cast
    or a ``result`` counted. The spectator's board's tally says it, whatever the event's
    kind: the engine's votes and a scenario's own (e.g. a team vote) update it alike."""
    board = Board(words, seat)
    found: dict[int, dict[str, Any]] = {}
    for event in events:
        before = _tally_state(board.tally)
        board.update(event)
        tally = board.tally
        if tally is None or _tally_state(tally) == before:
            continue
        ballot = {"purpose": tally.purpose, "ballot": tally.ballot}
        if not tally.counted:
            found[event.seq] = {"vote": ballot | {"target": tally.votes.get(event.actor or "")}}
            continue
        found[event.seq] = {
            "result": ballot
            | {
                "tally": dict(tally.counts),
                "decided": tally.decided,
                "tied": list(tally.tied),
                "random_pick": isinstance(event, VoteResultEvent) and event.random_pick,
            }
        }
    return found


def _tally_state(tally: Tally | None) -> tuple[Any, ...] | None:
    if tally is None:
        return None
    votes, counts = dict(tally.votes), dict(tally.counts)
    return (tally.round, tally.purpose, tally.ballot, votes, counts, tally.decided, tally.counted)


def _record(event: Event, words: Words, ballot: dict[str, Any]) -> dict[str, Any]:
    """One event as the page uses it: its transcript line, what it did to a vote (see
    ``_ballots``) and the data of its kind."""
    line = event.line_text(words)
    record: dict[str, Any] = {
        "seq": event.seq,
        "round": event.round,
        "phase": event.phase,
        "kind": event.kind,
        "actor": event.actor,
        "scope": event.visibility.scope,
        "marker": printable(marker(event)),
        "line": None if line is None else printable(line),
        **ballot,
    }
    if isinstance(event, BeliefEvent):
        record["probs"] = event.probs
    elif isinstance(event, SpeakEvent):
        stances = [claim for claim in event.claims if isinstance(claim, Accuse | Defend)]
        record["stances"] = [[claim.kind, claim.target] for claim in stances]
    elif isinstance(event, GameOverEvent):
        record["winner"] = event.winner
    return record
