"""``traitors fork``: plan the forks of one question, estimate them, run them like a sweep.

A fork directory is a run: one episode directory per fork, ``sweep.json`` and the journal,
so the same command resumes, ``--retries`` re-runs failures and ``--max-cost`` stops in
time. Its cells are the questions' arms (cell ``2q`` treated, ``2q + 1`` control).

Only argparse-level work happens at import; the engine is imported inside the commands.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from traitors.commands.options import UsageError, add_run_options

if TYPE_CHECKING:
    from rich.table import Table

    from traitors.commands.run import Work
    from traitors.episode.fork import Parent
    from traitors.store.manifest import Intervention
    from traitors.sweep.estimate import Estimate

Question = tuple[int, "Intervention | None"]
"""A fork point and the intervention there (None: the continuation resampled)."""
DEFAULT_SAMPLES = 10


def add_fork_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``fork`` subcommand."""
    fork = commands.add_parser(
        "fork",
        help="counterfactual forks: restore an episode up to an event, change it, play on",
        description=(
            "Restore EPISODE_DIR up to a decision exactly (its recorded actions and calls: no "
            "model call), apply the intervention, and play the rest live --samples times, "
            "with a control arm (same fork point, the original action kept). Each fork is an "
            "episode directory under --out (default runs/forks/<episode>-<question>); the "
            "same command resumes. Effects: traitors analyze OUT --group causal."
        ),
    )
    fork.add_argument("episode_dir", type=Path, metavar="EPISODE_DIR")
    fork.add_argument(
        "--at", type=int, metavar="SEQ", help="fork point (default: the changed message's)"
    )
    change = fork.add_mutually_exclusive_group()
    change.add_argument("--drop", type=int, metavar="SEQ", help="remove message SEQ")
    change.add_argument("--replace", metavar="SEQ=TEXT", help="say TEXT instead in message SEQ")
    change.add_argument(
        "--claims", metavar="SEQ=CLAIMS", help="message SEQ's claims, e.g. 12=accuse:Bob"
    )
    fork.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="agents.SEAT.FIELD=VALUE",
        help="change a seat's agent from the fork point on (repeatable)",
    )
    fork.add_argument("--samples", type=int, default=DEFAULT_SAMPLES, metavar="N")
    fork.add_argument(
        "--no-control", dest="control", action="store_false", help="skip the control arm"
    )
    fork.add_argument("--dry-run", action="store_true", help="print the forks' expected cost")
    add_run_options(fork)
    fork.set_defaults(handler=run_fork_command)


def run_fork_command(args: argparse.Namespace) -> int:
    """Run ``traitors fork``; exit codes as ``traitors sweep``."""
    from rich.console import Console
    from rich.markup import escape

    from traitors.commands.preflight import check_jobs
    from traitors.commands.run import budget_for, check_run_options, run_work
    from traitors.episode.fork import ForkError

    check_run_options(args)
    if args.samples < 1:
        raise UsageError("--samples must be at least 1")
    try:
        parent = open_parent(args.episode_dir)
        question = plan_question(parent, args)
        work = fork_work(parent, [question], args.samples, args.control)
    except ForkError as exc:
        raise UsageError(str(exc)) from None
    check_jobs(work.jobs)
    console = Console()
    cells = fork_estimates(parent, work)
    if args.dry_run:
        console.print(fork_table(f"forks of {parent.log.dir}", work, cells))
        return 0
    at, change = question
    out = args.out or Path("runs") / "forks" / f"{parent.log.manifest.episode_id}-{work.meta['id']}"
    what = escape(change.label) if change else "no intervention"
    console.print(
        f"forks of [bold]{escape(str(parent.log.dir))}[/] at event {at} ({what}): "
        f"{len(work.jobs)} episodes into {out}",
        highlight=False,
    )
    command = ["traitors fork", str(args.episode_dir), *_change_args(args)]
    code = run_work(args, work, out, console, budget_for(args, cells), command)
    console.print(f"effects: traitors analyze {out} --group causal", highlight=False)
    return code


def open_parent(path: Path) -> Parent:
    """The parent episode at ``path`` (extracted from its shard if it was packed)."""
    from traitors.episode.fork import ForkError, load_parent
    from traitors.store.log import LogError
    from traitors.store.shards import resolve_episode

    try:
        directory = path if path.exists() else resolve_episode(path)
        return load_parent(str(directory))
    except LogError as exc:
        raise ForkError(str(exc)) from None


def plan_question(parent: Parent, args: argparse.Namespace) -> Question:
    """The fork point and intervention the options ask for."""
    from traitors.episode.fork import ForkError, fork_point, intervene, swap

    change = None
    at = None
    for kind in ("drop", "replace", "claims"):
        value = getattr(args, kind)
        if value is None:
            continue
        if kind == "drop":
            at, change = intervene(parent, "drop", value)
        else:
            seq, sep, text = str(value).partition("=")
            if not sep or not seq.strip().isdigit():
                raise ForkError(f"--{kind} {value}: write SEQ=VALUE, e.g. 12=...")
            at, change = intervene(parent, kind, int(seq), text)
    if args.overrides:
        swapped = swap(args.overrides)
        change = swapped if change is None else change.model_copy(update={"set": swapped.set})
    if args.at is not None:
        point = fork_point(parent, args.at)
        if at is not None and point != at:
            raise ForkError(
                f"--at {args.at}: the changed message is decided at event {at}; fork there "
                "(or leave out --at)"
            )
        at = point
    if at is None:
        raise ForkError("give the fork point (--at SEQ) or the message to change (--drop ...)")
    return at, change


def fork_work(
    parent: Parent, questions: Sequence[Question], samples: int, control: bool = True
) -> Work:
    """The fork jobs of ``questions``: ``samples`` per arm, a cell per question and arm."""
    from traitors.commands.run import Work
    from traitors.episode.fork import ForkPlan, check_continuation, fork_records
    from traitors.sweep.jobs import Job

    manifest = parent.log.manifest
    jobs = []
    labels = {}
    for number, (at, change) in enumerate(questions):
        check_continuation(parent, change)
        records = fork_records(parent, at, change, samples, control)
        labels[records[0].question] = change.label if change else f"resample from {at}"
        for record in records:
            jobs.append(
                Job(
                    parent.spec,
                    manifest.seed,
                    ForkPlan(record).episode_id,
                    cell=2 * number + (record.arm == "control"),
                    factors={"question": record.question, "arm": record.arm},
                    fork=record,
                )
            )
    meta = {
        "fork": {"parent": manifest.episode_id, "parent_dir": str(parent.log.dir)},
        "questions": labels,
    }
    ident = next(iter(labels)) if len(labels) == 1 else f"{len(labels)}q"
    return Work({**meta, "id": ident}, jobs)


def _change_args(args: argparse.Namespace) -> list[str]:
    parts = []
    if args.at is not None:
        parts += ["--at", str(args.at)]
    for kind in ("drop", "replace", "claims"):
        if getattr(args, kind) is not None:
            parts += [f"--{kind}", repr(str(getattr(args, kind)))]
    for item in args.overrides:
        parts += ["--set", item]
    parts += ["--samples", str(args.samples)]
    if not args.control:
        parts.append("--no-control")
    return parts


# --- cost ---------------------------------------------------------------------------


def continuation_estimate(parent: Parent, at: int, change: Intervention | None) -> Estimate:
    """Expected model use of one continuation from ``at``: the parent's own calls after the
    fork point (its share of decisions made from there), priced at litellm's prices; with
    agents swapped, a dry estimate of the new agents scaled the same way."""
    from traitors.episode.fork import ForkPlan
    from traitors.store.manifest import ForkRecord
    from traitors.sweep.estimate import Estimate, estimate, model_price

    acts = [event.seq for event in parent.events if event.kind == "act"]
    share = sum(seq >= at for seq in acts) / max(1, len(acts))
    probe = ForkRecord(
        parent="", parent_dir="", at=at, arm="treated", sample=0, seed=0, question="",
        intervention=change, agents=(),
    )  # fmt: skip
    then = ForkPlan(probe).continuation_spec(parent.spec)
    if then.agents != parent.spec.agents:
        whole = estimate(then)
        cost = None if whole.cost is None else whole.cost * share
        return Estimate(
            whole.calls * share,
            whole.prompt_tokens * share,
            whole.completion_tokens * share,
            cost,
            whole.unknown,
        )
    tokens: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for record in parent.calls.values():
        tokens[record.model][0] += record.usage.prompt_tokens
        tokens[record.model][1] += record.usage.completion_tokens
    total: float | None = 0.0
    unknown = []
    for model, (prompt, completion) in sorted(tokens.items()):
        price = model_price(model, round(prompt * share), round(completion * share))
        if price is None:
            unknown.append(model)
        elif total is not None:
            total += price
    return Estimate(
        len(parent.calls) * share,
        sum(p for p, _ in tokens.values()) * share,
        sum(c for _, c in tokens.values()) * share,
        None if unknown else total,
        tuple(unknown),
    )


def fork_estimates(parent: Parent, work: Work) -> dict[int, Estimate]:
    """The expected model use of one fork of each cell."""
    cells: dict[int, Estimate] = {}
    for job in work.jobs:
        record = job.fork
        if record is not None and job.cell not in cells:
            cells[job.cell] = continuation_estimate(parent, record.at, record.intervention)
    return cells


def fork_table(title: str, work: Work, cells: dict[int, Estimate]) -> Table:
    """Questions and arms, forks, and the expected calls, tokens and cost."""
    from traitors.commands.run import expansion_table

    return expansion_table(f"{title}: {len(work.jobs)} forks", work.jobs, cells, seeds=False)
