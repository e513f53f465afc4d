"""Which decision each model call of an episode was for, from its raw logs.

A seat's calls (``calls.jsonl``, in the seat's call order) are of two sorts: a decision's,
which ask for a structured reply (their params hold a ``response_format``), and the rest
(the rolling notes a seat rewrites after a round, the lessons it writes after the game):
kind :data:`NOTES`. A decision's first call has the system and the user message; its
repair turn, if any, repeats them with the rejected reply and the error (more than two
messages). The n-th decision of a seat in ``calls.jsonl`` is its n-th ``act`` record in
``events.jsonl`` (the engine records one per decision, in order): its action kind and
round, and whether the default replaced it (an ``invalid_action`` record of the same actor
just before it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from analysis.episode_files import EpisodeFiles
from analysis.frames import seat_label
from traitors.store.validity import is_timeout

NOTES = "notes"
"""The kind of a call made for no decision (notes after a round, lessons after the game)."""
UNMATCHED = "unmatched"
"""The kind of a decision call of a seat whose decision calls and ``act`` records do not
pair up (none expected: the engine records one ``act`` per decision)."""
DECISION_LINES = (b'{"kind":"act"', b'{"kind":"invalid_action"')
"""How the events the pairing needs start (the engine writes ``kind`` first)."""


@dataclass
class Decision:
    """One decision of a seat: what was applied, and how the model's replies went."""

    seat: str
    round: int
    kind: str
    """The applied action's kind (a defaulted decision: its default's kind)."""
    defaulted: bool
    """Replaced by the request's default (unusable or illegal after the repair turn)."""
    model: str
    """The model that answered (a seat without calls: its label, e.g. ``heuristic``)."""
    repaired: bool = False
    """Its first reply was illegal and the repair turn's was legal."""


@dataclass(frozen=True)
class Call:
    """One model call, with the decision kind and round it was for."""

    seat: str
    model: str
    kind: str
    round: int | None
    failed: bool
    """The call failed after every retry (its record has an ``error``)."""
    timeout: bool
    """That error is a timeout."""
    prompt_tokens: int
    completion_tokens: int
    cost: float


@dataclass(frozen=True)
class Attribution:
    """An episode's decisions and calls, paired."""

    decisions: list[Decision]
    calls: list[Call]
    prompts: dict[tuple[str, str], int]
    """(seat, system prompt sent) -> calls that sent it: what the rules-text check reads."""
    unmatched: tuple[str, ...] = ()
    """Seats whose decision calls could not be paired with their decisions."""


def attribute(files: EpisodeFiles) -> Attribution:
    """Pair the calls of ``files`` with its decisions."""
    agents: Mapping[str, Mapping[str, Any]] = files.manifest.get("agents") or {}
    decisions = _decisions(files.events, agents)
    by_seat: dict[str, list[dict[str, Any]]] = {}
    for line in files.calls.splitlines():
        if line.strip():
            record = json.loads(line)
            by_seat.setdefault(str(record["agent"]), []).append(record)
    calls: list[Call] = []
    prompts: dict[tuple[str, str], int] = {}
    unmatched = []
    for seat, records in by_seat.items():
        records.sort(key=lambda r: int(r["index"]))
        own = [d for d in decisions if d.seat == seat]
        paired = _pair(records, own)
        if paired is None:
            unmatched.append(seat)
            paired = [(r, UNMATCHED if _is_decision(r) else NOTES, None) for r in records]
        calls += [_call(record, kind, round_) for record, kind, round_ in paired]
        for record in records:
            key = (seat, _system_prompt(record))
            prompts[key] = prompts.get(key, 0) + 1
    return Attribution(decisions, calls, prompts, tuple(sorted(unmatched)))


def _decisions(events: bytes, agents: Mapping[str, Mapping[str, Any]]) -> list[Decision]:
    """One Decision per ``act`` record, in order."""
    decisions = []
    invalid: set[str] = set()
    for line in events.splitlines():
        line = line.strip()
        if not line.startswith(DECISION_LINES):
            continue
        event = json.loads(line)
        actor = str(event["actor"])
        if event["kind"] == "invalid_action":
            invalid.add(actor)
            continue
        label = seat_label(agents.get(actor) or {})
        kind = str((event.get("action") or {}).get("kind"))
        decisions.append(Decision(actor, int(event["round"]), kind, actor in invalid, label))
        invalid.discard(actor)
    return decisions


def _is_decision(record: Mapping[str, Any]) -> bool:
    return "response_format" in (record.get("params") or {})


def _pair(
    records: list[dict[str, Any]], decisions: list[Decision]
) -> list[tuple[dict[str, Any], str, int | None]] | None:
    """Each call with its kind and round (marking the decisions repaired and setting their
    model), or None when the seat's decision turns and decisions differ in number."""
    turns = sum(1 for r in records if _is_decision(r) and len(r["messages"]) <= 2)
    if turns != len(decisions):
        return None
    paired: list[tuple[dict[str, Any], str, int | None]] = []
    turn = -1
    last_round = decisions[-1].round if decisions else None
    for record in records:
        if not _is_decision(record):
            upcoming = decisions[turn + 1].round if turn + 1 < len(decisions) else last_round
            paired.append((record, NOTES, upcoming))
            continue
        if len(record["messages"]) <= 2 or turn < 0:
            turn += 1
            decisions[turn].model = str(record["model"])
        else:
            decisions[turn].repaired = not decisions[turn].defaulted
        paired.append((record, decisions[turn].kind, decisions[turn].round))
    return paired


def _call(record: Mapping[str, Any], kind: str, round_: int | None) -> Call:
    usage = record.get("usage") or {}
    error = record.get("error")
    return Call(
        seat=str(record["agent"]),
        model=str(record["model"]),
        kind=kind,
        round=round_,
        failed=error is not None,
        timeout=is_timeout(error),
        prompt_tokens=int(usage.get("prompt_tokens", 0)),
        completion_tokens=int(usage.get("completion_tokens", 0)),
        cost=float(record.get("cost", 0.0)),
    )


def _system_prompt(record: Mapping[str, Any]) -> str:
    """The system message of a call ("" when it has none)."""
    messages = record.get("messages") or []
    return str(next((m["content"] for m in messages if m.get("role") == "system"), ""))
