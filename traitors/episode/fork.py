"""Counterfactual forks: restore a recorded episode up to a decision, change it, play on.

A fork replays its parent's first ``at`` events exactly (the seats decide again, their model
calls served from the parent's recording: no model is called), then, at the fork point,
reseeds every seat from the continuation's seed, applies the intervention and plays the rest
live. The treated arm applies the changed action (a message dropped, its words or claims
replaced, seats' agents swapped); the control arm keeps the parent's action. The rules'
random stream is not reseeded: only the agents' choices are resampled.

This module plans forks (fork points, interventions, seeds, ids) and loads parents; the
engine plays them (``run_episode(..., fork=ForkPlan)``).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from traitors.episode.core import EpisodeCore, RestoreError
from traitors.episode.policy import Decision
from traitors.episode.recorded import replayable
from traitors.episode.spec import ScenarioSpec, apply_override, validate_spec
from traitors.game import registry
from traitors.game.actions import ActionBase, ActionError, Pass, parse_action
from traitors.game.events import ActEvent, EventBase
from traitors.game.seeds import derive_seed
from traitors.store.calls import CallLog, CallRecord
from traitors.store.log import CALLS, EpisodeLog, read_episode
from traitors.store.manifest import ForkRecord, Intervention
from traitors.util.text import printable

Arm = Literal["treated", "control"]
LABEL_CHARS = 60
"""Characters of a message quoted in an intervention's label."""


class ForkError(ValueError):
    """A fork cannot be made as asked (bad fork point, intervention or parent)."""


@dataclass(frozen=True)
class Parent:
    """A recorded episode to fork from: its log, spec and model calls."""

    log: EpisodeLog
    spec: ScenarioSpec
    calls: dict[str, CallRecord]

    @property
    def events(self) -> list[EventBase]:
        """The parent's events."""
        return self.log.events


@functools.lru_cache(maxsize=4)
def load_parent(directory: str) -> Parent:
    """The complete episode in ``directory`` (ForkError if it is not a played game)."""
    path = Path(directory)
    try:
        log = read_episode(path)
    except FileNotFoundError as exc:
        raise ForkError(str(exc)) from None
    if not log.manifest.played:
        raise ForkError(
            f"{path}: the episode is {log.manifest.status}, not a played game; fork a "
            "complete episode"
        )
    spec = validate_spec(log.manifest.spec, source=str(path / "manifest.json"))
    calls = CallLog.replaying(path / CALLS).recorded if (path / CALLS).is_file() else {}
    return Parent(log, spec, calls or {})


@dataclass(frozen=True)
class ForkPlan:
    """What ``run_episode`` needs to play one fork."""

    record: ForkRecord
    prefix: tuple[EventBase, ...] | None = None
    """The parent's first ``at`` events, to check the restored prefix against (None in a
    replay, which checks the whole log instead)."""
    live: bool = True
    """Call the models after the fork point (False in a replay: the recording serves all)."""

    @property
    def at(self) -> int:
        """The fork point."""
        return self.record.at

    @property
    def episode_id(self) -> str:
        """The fork's episode id."""
        return fork_episode_id(self.record)

    def fixed_moves(self) -> dict[str, Decision]:
        """The move applied at the fork point without asking the seat: the changed action
        in the treated arm, the parent's in the control arm."""
        change = self.record.intervention
        if change is None or change.actor is None:
            return {}
        action = change.applied if self.record.arm == "treated" else change.original
        return {change.actor: Decision(parse_action(action))} if action is not None else {}

    def overrides(self) -> tuple[str, ...]:
        """The continuation's agent overrides: the stand-ins for seats played in person,
        then the treated arm's ``--set`` overrides."""
        record = self.record
        change = record.intervention
        treated = change.set if change is not None and record.arm == "treated" else []
        return (*record.agents, *treated)

    def continuation_spec(self, spec: ScenarioSpec) -> ScenarioSpec:
        """``spec`` with the agents of the continuation (``overrides``)."""
        overrides = self.overrides()
        if not overrides:
            return spec
        raw: dict[str, Any] = spec.model_dump(mode="json")
        for item in overrides:
            raw = apply_override(raw, item, source="fork")
        return validate_spec(raw, source="fork --set")


def fork_episode_id(record: ForkRecord) -> str:
    """A fork's episode id: a hash of its parent, fork point, question, arm and sample."""
    body = [record.parent, record.at, record.question, record.arm, record.sample]
    return hashlib.sha256(json.dumps(body).encode()).hexdigest()[:16]


def question_id(parent: str, at: int, change: Intervention | None) -> str:
    """The id both arms of one intervention share."""
    body = [parent, at, change.model_dump(mode="json") if change else None]
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:8]


def fork_records(
    parent: Parent,
    at: int,
    change: Intervention | None,
    samples: int,
    control: bool = True,
) -> list[ForkRecord]:
    """The forks of one question: ``samples`` per arm, each with its own seed derived from
    (episode, fork point, intervention, arm, sample). Without an intervention there is
    one arm, the control (the continuation resampled)."""
    manifest = parent.log.manifest
    question = question_id(manifest.episode_id, at, change)
    arms: list[Arm] = ["treated", "control"] if change is not None else ["control"]
    if change is not None and not control:
        arms = ["treated"]
    return [
        ForkRecord(
            parent=manifest.episode_id,
            parent_dir=str(parent.log.dir),
            at=at,
            arm=arm,
            sample=i,
            seed=derive_seed(manifest.seed, "fork", at, question, arm, i),
            question=question,
            intervention=change,
            agents=stand_ins(parent),
        )
        for arm in arms
        for i in range(samples)
    ]


# --- fork points and interventions ----------------------------------------------------


def restore(parent: Parent, until: int) -> EpisodeCore:
    """The parent's core at the last decision point at or before ``until``."""
    spec = parent.spec
    rules = spec.build_rules()
    players = spec.seats(rules.seat_count())
    try:
        return EpisodeCore.restore(rules, players, parent.log.manifest.seed, parent.events, until)
    except RestoreError as exc:
        raise ForkError(f"{parent.log.dir}: cannot restore the episode: {exc}") from None


def fork_point(parent: Parent, at: int) -> int:
    """``at`` moved back to the decision point at or before it."""
    if not 0 <= at < len(parent.events):
        raise ForkError(f"--at {at}: the episode has events 0..{len(parent.events) - 1}")
    core = restore(parent, at)
    if core.over:
        raise ForkError(f"--at {at}: the game is over by then")
    return len(core.events)


def message_act(parent: Parent, target: int) -> ActEvent:
    """The act event whose action produced the message event ``target``."""
    events = parent.events
    if not 0 <= target < len(events):
        raise ForkError(f"event {target}: the episode has events 0..{len(events) - 1}")
    event = events[target]
    if event.kind != "speak" or event.actor is None:
        raise ForkError(f"event {target} is {event.kind!r}, not a message (speak)")
    for earlier in reversed(events[:target]):
        if isinstance(earlier, ActEvent) and earlier.actor == event.actor:
            return earlier
    raise ForkError(f"event {target}: no recorded decision of {event.actor} before it")


def intervene(
    parent: Parent,
    kind: Literal["drop", "replace", "claims"],
    target: int,
    value: str = "",
) -> tuple[int, Intervention]:
    """The fork point of message ``target``'s decision and the intervention changing it:
    ``drop`` (the seat passes), ``replace`` (new words), ``claims`` (new claims, e.g.
    ``accuse:Bob,defend:Eve``; empty: none). ForkError if the change is not legal there."""
    act = message_act(parent, target)
    core = restore(parent, act.seq)
    actor = act.actor or ""
    request = core.pending.get(actor)
    if request is None:
        raise ForkError(f"event {target}: {actor}'s decision cannot be restored")
    original = act.action
    applied = _changed(original, kind, value, target)
    try:
        request.check(applied)
    except ActionError as exc:
        raise ForkError(f"--{kind} {target}: not a legal answer there: {exc}") from None
    message = parent.events[target]
    said = printable(str(getattr(message, "text", "")))
    short = said if len(said) <= LABEL_CHARS else said[: LABEL_CHARS - 3] + "..."
    label = f"{kind} {target}: {actor}: {short}"
    if kind != "drop":
        label += f" -> {printable(value)[:LABEL_CHARS]}"
    change = Intervention(
        kind=kind,
        target=target,
        actor=actor,
        round=message.round,
        phase=message.phase,
        original=original.model_dump(mode="json"),
        applied=applied.model_dump(mode="json"),
        label=label,
    )
    return len(core.events), change


def _changed(original: ActionBase, kind: str, value: str, target: int) -> ActionBase:
    if kind == "drop":
        return Pass()
    field = "text" if kind == "replace" else "claims"
    if field not in type(original).model_fields:
        raise ForkError(f"--{kind} {target}: the message's action has no {field}")
    data = original.model_dump(mode="json")
    data[field] = value if kind == "replace" else parse_claims(value)
    try:
        return parse_action(data)
    except ActionError as exc:
        raise ForkError(f"--{kind} {target}: {exc}") from None


def parse_claims(text: str) -> list[dict[str, str]]:
    """``accuse:Bob,claim_role:seer`` as claims (empty text: no claims)."""
    claims = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        kind, _, who = item.partition(":")
        if not who:
            raise ForkError(f"claim {item!r}: write KIND:NAME, e.g. accuse:Bob")
        claims.append({"kind": kind, "role" if kind == "claim_role" else "target": who})
    return claims


def swap(overrides: Sequence[str]) -> Intervention:
    """An intervention that only changes seats' agents from the fork point on."""
    for item in overrides:
        if not item.startswith("agents.") or "=" not in item:
            raise ForkError(f"--set {item}: a fork may change agents only (agents.<layer>.X=V)")
    return Intervention(kind="set", set=tuple(overrides), label="set " + " ".join(overrides))


def stand_ins(parent: Parent) -> tuple[str, ...]:
    """Overrides giving each agent layer played in person or elsewhere (a human seat, an
    imported game's ``default``) the scenario's heuristic for the continuation, in both
    arms: no one is there to play on (``--set`` overrides come after them)."""
    return tuple(
        f"agents.{layer}.policy=heuristic"
        for layer, agent in parent.spec.agents.items()
        if agent.policy is not None and not replayable({"policy": agent.policy})
    )


def _check_heard(item: str, spec: ScenarioSpec, roles: Mapping[str, str]) -> None:
    """ForkError for an agent setting other than the policy (``agents.Bob.model=M``) set for
    seats whose policy calls no model: only model-calling policies read those settings."""
    parts = item.partition("=")[0].split(".", 2)
    if len(parts) < 3 or parts[2] == "policy":
        return
    layer = parts[1]
    seats = [seat for seat, role in roles.items() if layer in ("default", seat, role)]
    policies = {spec.agent_for(seat, roles[seat]).policy or "heuristic" for seat in seats}
    if any(getattr(registry.lookup("policy", p), "calls_models", False) for p in policies):
        return
    played = ", ".join(sorted(policies)) or "no seat"
    raise ForkError(
        f"--set {item}: {layer} plays {played}, which calls no model, so this changes "
        f"nothing; set agents.{layer}.policy=llm too"
    )


def check_continuation(parent: Parent, change: Intervention | None) -> None:
    """ForkError unless the continuation's agents make a valid spec that can run here."""
    probe = ForkRecord(
        parent="", parent_dir="", at=0, arm="treated", sample=0, seed=0, question="",
        intervention=change, agents=stand_ins(parent),
    )  # fmt: skip
    try:
        then = ForkPlan(probe).continuation_spec(parent.spec)
    except ValueError as exc:
        raise ForkError(str(exc).splitlines()[0]) from None
    for item in change.set if change is not None else ():
        _check_heard(item, then, parent.log.manifest.roles)
    models = {agent.model or "" for agent in then.agents.values()}
    hosted = sorted(model for model in models if model.startswith("hosted/"))
    if hosted:
        raise ForkError(
            f"{', '.join(hosted)}: forks cannot start a sweep's inference servers yet; fork "
            "with --set agents.<seat>.model=<a provider model>"
        )
