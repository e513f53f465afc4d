"""The moderator's records of a Kaggle Werewolf replay (``info.MODERATOR_OBSERVATION``):
each entry's ``json_str`` decoded into a :class:`Record`, names checked against the ones
Kaggle's engine writes (kaggle-environments 1.33.2)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from traitors.store.imported import BadReplay

MODERATOR = "MODERATOR"
"""The source of the records the game itself writes."""
ABSTAIN = "-1"
"""A vote for nobody."""

EVENT_NAMES = frozenset(
    {
        "game_start",
        "phase_change",
        "phase_divider",
        "elimination",
        "vote_request",
        "vote_action",
        "vote_result",
        "vote_order",
        "heal_request",
        "heal_action",
        "heal_result",
        "inspect_request",
        "inspect_action",
        "inspect_result",
        "chat_request",
        "discussion",
        "discussion_order",
        "bid_request",
        "bid_result",
        "bid_action",
        "bidding_info",
        "eliminate_proposal_action",
        "no_op_action",
        "game_end",
        "moderator_announcement",
        "action_confirmation",
        "error",
        "night_start",
        "day_start",
        "night_end",
        "day_end",
    }
)
"""Every event name Kaggle's engine writes."""


@dataclass(frozen=True)
class Record:
    """One moderator record."""

    name: str
    """Its ``event_name``."""
    data_type: str
    """The class of its data (``ChatDataEntry``, ``dict`` for an echo, ``NoneType``...)."""
    day: int
    """Kaggle's day: Night 0, Day 1, Night 1, ..."""
    night: bool
    """Whether it happened at night."""
    source: str
    """The acting player, or ``MODERATOR``."""
    public: bool
    visible_to: tuple[str, ...]
    data: dict[str, Any]
    created_at: str | None = None
    """When Kaggle's engine wrote it (ISO 8601), if the replay kept it."""

    @property
    def echo(self) -> bool:
        """A moderator's copy of an action (it repeats the typed record, with the model's
        prompt, completion, tokens and cost)."""
        return self.source == MODERATOR and self.data_type == "dict" and "actor_id" in self.data

    @property
    def round(self) -> int:
        """Our round: Kaggle's Night n is round n + 1, its Day d is round d."""
        return self.day + 1 if self.night else self.day


def records(info: dict[str, Any]) -> Iterator[Record]:
    """The replay's moderator records in order; BadReplay for one that does not read."""
    steps = info.get("MODERATOR_OBSERVATION")
    if not isinstance(steps, list):
        raise BadReplay("not a Werewolf replay: info.MODERATOR_OBSERVATION is missing")
    for step in steps:
        for entry in step if isinstance(step, list) else [step]:
            yield _record(entry)


def _record(entry: Any) -> Record:
    try:
        body = json.loads(entry["json_str"])
        name = body["event_name"]
        data = body.get("data")
        record = Record(
            name=str(name),
            data_type=str(entry.get("data_type", "")),
            day=int(body["day"]),
            night=body["phase"] == "Night",
            source=str(body.get("source", MODERATOR)),
            public=bool(body.get("public")),
            visible_to=tuple(str(p) for p in body.get("visible_to") or ()),
            data=data if isinstance(data, dict) else {},
            created_at=body.get("created_at"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadReplay(f"a moderator record does not read ({type(exc).__name__}: {exc})") from None
    if record.name not in EVENT_NAMES:
        raise BadReplay(f"unknown event name {record.name!r}")
    return record
