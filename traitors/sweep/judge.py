"""Judge runs: a model asked, per statement, whether its speaker is lying.

Calls go through the gateway (its per-endpoint limit, retries and timeouts), ``concurrency``
at a time, each recorded in the run's ``calls.jsonl`` with the statement's key as its agent.
A run resumes: a statement whose last call gave a score is not asked again, the others are
(a failed call or a reply that is no probability is asked anew, as a sweep redoes a failed
episode). The scores and ``detector.json`` (``traitors.store.detector``) are written at the
end, also when the budget or an interrupt stops the run. A replay rebuilds every request
from the dataset and the recorded settings, serves the recorded answers (no model) and
compares the scores.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from traitors.llm.endpoints import endpoint_for, endpoint_of
from traitors.llm.gateway import Gateway, ModelRequest
from traitors.store.calls import CallRecord, ReplayMiss
from traitors.store.detector import (
    DETECTOR,
    DetectorManifest,
    read_manifest,
    read_scores,
    write_manifest,
    write_scores,
)
from traitors.store.log import CALLS
from traitors.sweep.budget import Spend
from traitors.sweep.judge_budget import CallBudget
from traitors.sweep.judge_prompt import REPLY_FORMAT, Context, Statement, messages
from traitors.sweep.judge_record import CallsFile, KeptCallLog, outcome, read_records

MILLION = 1_000_000
STAGGER = 0.01
"""Seconds between the workers' first calls: C answers of a model with a steady latency would
otherwise arrive in one instant and queue behind each other's handling on the event loop,
every round (about 4 ms of litellm's work each), instead of overlapping the other calls."""


class JudgeError(ValueError):
    """A judge run that cannot go on as asked (one line)."""


class JudgeSettings(BaseModel):
    """How a judge is asked: recorded in ``detector.json``, and the same on every resume."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    template: str
    """The user message's template (``traitors.sweep.judge_prompt.FIELDS``)."""
    context: Context = "public"
    temperature: float = 0.0
    reply_tokens: int = 64
    """The reply's ``max_tokens``."""
    seed: int = 0
    splits: tuple[str, ...] = ()
    """The dataset's splits judged (empty: all)."""
    runs: tuple[str, ...] = ()
    """Where the transcripts were read from (empty: the dataset's inlined context)."""

    @property
    def name(self) -> str:
        """How tables name this judge."""
        return f"judge {self.model}, {self.context} context"

    def request(self, statement: Statement) -> ModelRequest:
        """The request asking about ``statement``."""
        return ModelRequest(
            model=self.model,
            messages=messages(statement, self.template, self.context),
            temperature=self.temperature,
            max_tokens=self.reply_tokens,
            seed=self.seed,
            response_format=REPLY_FORMAT,
        )


@dataclass(frozen=True)
class JudgeResult:
    """What one invocation did, and the run's manifest after it."""

    manifest: DetectorManifest
    called: int
    """Calls made by this invocation."""
    kept: int
    """Statements already scored by an earlier invocation (not asked again)."""
    budget_stopped: bool
    """The budget stopped the run before every statement was asked."""


def run_judge(
    statements: Sequence[Statement],
    settings: JudgeSettings,
    dataset: Path,
    out: Path,
    concurrency: int = 8,
    max_cost: float | None = None,
    max_tokens: float | None = None,
    gateway: Gateway | None = None,
    on_answer: Callable[[int, int], None] = lambda done, todo: None,
) -> JudgeResult:
    """Judge ``statements`` into ``out``, resuming what an earlier invocation left;
    ``on_answer(done, todo)`` follows the answers of this invocation (progress)."""
    _check_resumable(out, settings, dataset)
    out.mkdir(parents=True, exist_ok=True)
    earlier = read_records(out / CALLS)
    scored = {key for key, r in _last(earlier).items() if outcome(r).score is not None}
    todo = [s for s in statements if s.key not in scored]
    budget = _budget(settings, earlier, max_cost, max_tokens)
    writer = CallsFile(out / CALLS)
    log = KeptCallLog(writer=writer, counters=dict(Counter(r.agent for r in earlier)))
    base = DetectorManifest(
        kind="judge",
        name=settings.name,
        dataset=str(dataset),
        settings=settings.model_dump(mode="json"),
    )
    write_manifest(out, base.model_copy(update={"statements": len(statements)}))
    stopped = False
    try:
        stopped = asyncio.run(
            _judge_all(
                todo,
                settings,
                gateway or Gateway(default_limit=concurrency),
                log,
                budget,
                on_answer,
            )
        )
    finally:
        writer.close()
        manifest = _finish(out, base, statements, [*earlier, *log.kept])
    return JudgeResult(manifest, len(log.kept), len(statements) - len(todo), stopped)


def replay_judge(statements: Sequence[Statement], settings: JudgeSettings, out: Path) -> str | None:
    """Re-run the recorded judge run ``out`` with no model: None when every score is the one
    its ``scores.parquet`` holds, else the first difference."""
    recorded = read_records(out / CALLS)
    calls = Counter(r.agent for r in recorded)
    log = KeptCallLog(recorded={r.key: r for r in recorded})
    gateway = Gateway()  # in replay it only serves the recording

    async def replay() -> None:
        for statement in statements:
            for _ in range(calls.get(statement.key, 0)):
                await gateway.complete(settings.request(statement), agent=statement.key, log=log)

    try:
        asyncio.run(replay())
    except ReplayMiss as exc:
        return str(exc)
    replayed = _rows(statements, log.kept)
    written = read_scores(out).rows()
    for want, got in zip(written, replayed, strict=False):
        if tuple(want) != got:
            return f"statement {want[0]}:{want[1]}: scores.parquet {want[2:]}, replay {got[2:]}"
    if len(written) != len(replayed):
        return f"scores.parquet has {len(written)} statements, the replay {len(replayed)}"
    return None


def _check_resumable(out: Path, settings: JudgeSettings, dataset: Path) -> None:
    """JudgeError when ``out`` holds another detector's run or another judge's."""
    if not (out / DETECTOR).exists():
        return
    found = read_manifest(out)
    if found.kind != "judge" or Path(found.dataset) != dataset:
        raise JudgeError(f"{out}: holds a {found.kind} run of {found.dataset}; use another --out")
    wanted = settings.model_dump(mode="json")
    changed = [k for k, v in wanted.items() if found.settings.get(k) != v]
    if changed:
        raise JudgeError(
            f"{out}: judged with another {changed[0]} (use the same settings to resume it, "
            "or another --out)"
        )


def _budget(
    settings: JudgeSettings,
    earlier: Iterable[CallRecord],
    max_cost: float | None,
    max_tokens: float | None,
) -> CallBudget | None:
    """The budget ``max_cost``/``max_tokens`` ask for, counting the earlier calls; JudgeError
    when a budget in dollars meets a model without a price."""
    if max_cost is None and max_tokens is None:
        return None
    endpoint = endpoint_for(settings.model)
    per_prompt = endpoint.token_price(settings.model, MILLION, 0)
    per_reply = endpoint.token_price(settings.model, 0, MILLION)
    if (per_prompt is None or per_reply is None) and max_cost is not None:
        raise JudgeError(
            f"--max-cost: litellm has no price for {settings.model}; budget with --max-tokens"
        )
    budget = CallBudget(
        max_cost,
        max_tokens,
        (per_prompt or 0.0) / MILLION,
        (per_reply or 0.0) / MILLION,
        settings.reply_tokens,
    )
    for record in earlier:
        budget.finished(
            record.agent, _spend(record), _characters(record.messages), record.usage.prompt_tokens
        )
    return budget


async def _judge_all(
    todo: Sequence[Statement],
    settings: JudgeSettings,
    gateway: Gateway,
    log: KeptCallLog,
    budget: CallBudget | None,
    on_answer: Callable[[int, int], None],
) -> bool:
    """Ask about every statement of ``todo``, as many at once as the gateway's limit of the
    model's endpoint; True when the budget stopped it first."""
    pending: Iterator[Statement] = iter(todo)
    stopped = False
    answered = 0

    async def worker(index: int) -> None:
        nonlocal stopped, answered
        await asyncio.sleep(index * STAGGER)
        for statement in pending:  # shared: each statement goes to one worker
            request = settings.request(statement)
            characters = _characters(request.messages)
            if stopped or (budget is not None and not budget.admit(characters)):
                stopped = True
                return
            if budget is not None:
                budget.started(statement.key, characters)
            response = await gateway.complete(request, agent=statement.key, log=log)
            answered += 1
            on_answer(answered, len(todo))
            if budget is not None:
                tokens = response.prompt_tokens + response.completion_tokens
                spend = Spend(response.cost, tokens)
                budget.finished(statement.key, spend, characters, response.prompt_tokens)

    workers = max(1, gateway.limits.get(endpoint_of(settings.model), gateway.default_limit))
    await asyncio.gather(*(worker(i) for i in range(min(workers, len(todo)) or 1)))
    return stopped


def _finish(
    out: Path,
    base: DetectorManifest,
    statements: Sequence[Statement],
    records: Sequence[CallRecord],
) -> DetectorManifest:
    """Write the scores and the final ``detector.json``; return the latter."""
    rows = _rows(statements, records)
    write_scores(out, rows)
    last = _last(records)
    reasons = Counter(outcome(last.get(s.key)).reason for s in statements)
    scored = reasons.pop(None, 0)
    manifest = base.model_copy(
        update={
            "status": "complete" if scored == len(statements) else "partial",
            "statements": len(statements),
            "scored": scored,
            "failed": {str(k): n for k, n in sorted(reasons.items(), key=str)},
            "usage": _usage(records),
        }
    )
    write_manifest(out, manifest)
    return manifest


def _rows(
    statements: Sequence[Statement], records: Sequence[CallRecord]
) -> list[tuple[str, int, float | None, str | None]]:
    """One scores row per statement, from its last call."""
    last = _last(records)
    rows = []
    for statement in sorted(statements, key=lambda s: (s.episode, s.seq)):
        got = outcome(last.get(statement.key))
        rows.append((statement.episode, statement.seq, got.score, got.message))
    return rows


def _last(records: Iterable[CallRecord]) -> dict[str, CallRecord]:
    """Each statement's last call (records in order)."""
    return {record.agent: record for record in records}


def _usage(records: Sequence[CallRecord]) -> dict[str, float]:
    return {
        "calls": len(records),
        "prompt_tokens": sum(r.usage.prompt_tokens for r in records),
        "completion_tokens": sum(r.usage.completion_tokens for r in records),
        "cost": sum(r.cost for r in records),
    }


def _characters(messages: Iterable[dict[str, str]]) -> int:
    return sum(len(m["content"]) for m in messages)


def _spend(record: CallRecord) -> Spend:
    return Spend(record.cost, record.usage.prompt_tokens + record.usage.completion_tokens)
