"""``manifest.json``: what an episode was, how it ended, and how honestly it was played.

Written when the episode starts (status ``running``) and again, atomically, when it ends:
``complete``; ``degraded`` when model calls failed or actions were replaced by defaults
beyond the spec's ``health`` limits (the game was not really played as specified);
``failed`` when it raised. Only ``complete`` episodes count as played games: sweeps re-run
the others, the analysis leaves them out unless asked.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from traitors.game.words import NEUTRAL, Words

Status = Literal["running", "complete", "degraded", "failed"]


class OutcomeRecord(BaseModel):
    """How the game ended."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    winner: str | None
    """Winning faction, or None for a draw."""
    reason: str
    """Why the game ended."""
    rounds: int
    """Rounds played."""
    truncated: bool = False
    """True if the round limit ended the game."""


class SeatHealth(BaseModel):
    """How one seat's (or every seat's) decisions and model calls went."""

    model_config = ConfigDict(extra="forbid")

    decisions: int = 0
    """Answers applied."""
    defaulted: int = 0
    """Answers replaced by the request's default (unusable or illegal after the repair)."""
    repaired: int = 0
    """Answers that were illegal at first and made legal by the repair turn."""
    calls: int = 0
    """Model calls."""
    failed_calls: int = 0
    """Model calls that failed after every retry."""

    def add(self, other: SeatHealth) -> None:
        """Add another seat's counts to these."""
        for name in type(self).model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class HealthLimits(BaseModel):
    """When an episode stops counting as a played game (its status becomes ``degraded``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_failed_calls: int = Field(0, ge=0)
    """Model calls that may fail (after retries) in one episode."""
    max_defaulted_share: float = Field(0.2, ge=0.0, le=1.0)
    """Share of one seat's answers that may be replaced by the default."""
    play_on: bool = False
    """Play a degraded episode to its end. By default it stops at the first model call
    failed past ``max_failed_calls`` (a share of defaulted answers can still fall, so it is
    judged when the game ends)."""

    def breach(self, total: SeatHealth) -> str | None:
        """Why an episode with these counts so far can no longer count, or None."""
        if total.failed_calls > self.max_failed_calls:
            return (
                f"{total.failed_calls} of {total.calls} model calls failed "
                f"(limit {self.max_failed_calls})"
            )
        return None

    def verdict(
        self,
        seats: dict[str, SeatHealth],
        total: SeatHealth,
        failed_kinds: dict[str, int] | None = None,
    ) -> str | None:
        """Why an episode with these counts is degraded, or None if it is not; the failed
        calls are named by kind when ``failed_kinds`` are given (``...(limit 0): auth 1``)."""
        reasons = []
        if failed := self.breach(total):
            if failed_kinds:
                failed += ": " + ", ".join(f"{k} {n}" for k, n in sorted(failed_kinds.items()))
            reasons.append(failed)
        for seat, health in seats.items():
            if health.decisions and health.defaulted / health.decisions > self.max_defaulted_share:
                reasons.append(
                    f"{seat}: {health.defaulted} of {health.decisions} actions defaulted "
                    f"(limit {self.max_defaulted_share:.0%})"
                )
        return "; ".join(reasons) or None


class Intervention(BaseModel):
    """What a fork changed at its fork point (``traitors fork``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["drop", "replace", "claims", "set"]
    """Drop a message, replace its words or its claims, or change seats' agents."""
    target: int | None = None
    """Seq, in the parent, of the message event changed (None for ``set``)."""
    actor: str | None = None
    """Who sent the message."""
    round: int | None = None
    """The message's round."""
    phase: str | None = None
    """The message's phase."""
    original: dict[str, Any] | None = None
    """The action the parent applied (kept by the control arm)."""
    applied: dict[str, Any] | None = None
    """The action the treated arm applies instead."""
    set: tuple[str, ...] = ()
    """``PATH=VALUE`` spec overrides (``agents.<seat>.model=M``) from the fork point on."""
    label: str = ""
    """The intervention in a few words, for tables."""


class ForkRecord(BaseModel):
    """Where a fork comes from: its parent, fork point, intervention, arm and sample."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    parent: str
    """The parent's episode id."""
    parent_dir: str
    """The parent's directory, as given to ``traitors fork``."""
    at: int
    """The fork point: events before it are the parent's, byte for byte."""
    arm: Literal["treated", "control"]
    """``treated``: with the intervention; ``control``: the parent's action kept."""
    sample: int
    """The continuation's number within its arm."""
    seed: int
    """The continuation's seed (agents are reseeded with it at the fork point)."""
    question: str
    """Id shared by both arms of one intervention."""
    intervention: Intervention | None = None
    """What is changed (None: a fork that only resamples the continuation)."""
    agents: tuple[str, ...] = ()
    """``PATH=VALUE`` overrides for both arms from the fork point: an agent for each seat
    played in person (no one is there to play the continuation)."""
    prefix_calls: int = 0
    """Model calls served from the parent's recording to restore the prefix."""


class SourceRecord(BaseModel):
    """Where an imported episode comes from (``traitors import``): it was played elsewhere,
    so it has no model calls of ours and nothing to replay."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str
    """The importer that read it (its ``traitors.importers`` entry point's name)."""
    file: str
    """The file it was read from (``archive.zip:member.json`` for a member of an archive)."""
    episode: str | None = None
    """The source's own id of the episode, when it has one."""
    details: dict[str, Any] = Field(default_factory=dict)
    """What else the importer kept of the source (its ids for our seat names, its seed...)."""


class Manifest(BaseModel):
    """The ``manifest.json`` of one episode."""

    model_config = ConfigDict(extra="ignore")

    episode_id: str
    """Hash of (spec, seed)."""
    name: str
    """The spec's name."""
    scenario: str
    """Registered scenario name."""
    seed: int
    """The episode's root seed."""
    spec: dict[str, Any]
    """The full, validated spec."""
    players: list[str]
    """Seats, in seat order."""
    roles: dict[str, str]
    """Seat -> role dealt at the start."""
    words: dict[str, Any] = Field(default_factory=dict)
    """The scenario's words (factions, which roles play for which): what analyses name."""
    agents: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Seat -> resolved agent settings."""
    status: Status
    """``running``, ``complete``, ``degraded`` or ``failed``."""
    status_reason: str | None = None
    """Why the episode is degraded or failed."""
    final_roles: dict[str, str] = Field(default_factory=dict)
    """Seat -> role at the end (roles can change, e.g. recruitment)."""
    outcome: OutcomeRecord | None = None
    """How the game ended (None while running or when it raised)."""
    n_events: int = 0
    """Events in ``events.jsonl``."""
    health: dict[str, SeatHealth] = Field(default_factory=dict)
    """Seat -> its decisions and model calls."""
    health_total: SeatHealth = Field(default_factory=SeatHealth)
    """Every seat's counts added up."""
    failed_kinds: dict[str, int] = Field(default_factory=dict)
    """The failed model calls by error kind (``auth``, ``rate_limit``, ``timeout``...: the call
    records' ``error_kind``; ``unknown`` for records that name none)."""
    usage: dict[str, int | float] = Field(default_factory=dict)
    """Model calls, tokens and cost of the episode."""
    lessons_in: dict[str, str] = Field(default_factory=dict)
    """Seat -> lessons carried in from earlier episodes (``memory: persist``)."""
    lessons_out: dict[str, str] = Field(default_factory=dict)
    """Seat -> lessons written for the next episode."""
    started_at: float
    """Wall-clock start (seconds since the epoch)."""
    finished_at: float | None = None
    """Wall-clock end."""
    traitors_version: str = ""
    """The engine's version."""
    fork: ForkRecord | None = None
    """For a fork (``traitors fork``): its parent, fork point and intervention. Its
    ``usage`` counts the continuation's calls only; ``health`` the whole game."""
    source: SourceRecord | None = None
    """For an imported episode (``traitors import``): the file and the source's episode id.
    None for an episode played here."""
    seat_usage: dict[str, dict[str, int | float]] = Field(default_factory=dict)
    """Seat -> its model calls, tokens and cost, where the source records them per seat (an
    imported game; an episode played here has them in ``calls.jsonl``)."""

    @property
    def imported(self) -> bool:
        """True for an episode read from another engine's records (nothing to replay)."""
        return self.source is not None

    @property
    def played(self) -> bool:
        """True for a complete episode: a game played as specified."""
        return self.status == "complete"

    def scenario_words(self) -> Words:
        """The scenario's words as recorded (neutral ones for a manifest without them)."""
        return Words.model_validate(self.words) if self.words else NEUTRAL
