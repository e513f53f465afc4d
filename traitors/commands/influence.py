"""``traitors influence``: which messages of an episode changed what happened next?

For each public message of one phase, drop it (or only its claims) and fork the episode
there (``traitors fork``), with a control arm keeping it; then rank the messages by their
effect on the next decided public vote (``analysis.causal``). The forks run like a sweep:
progress, resume, ``--retries``, ``--max-cost``; ``--dry-run`` shows the expected calls
and cost first.

Only argparse is imported at module level, so adding the subcommand costs nothing at start-up.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from traitors.commands.options import UsageError, add_run_options

if TYPE_CHECKING:
    import polars as pl
    from rich.table import Table

    from traitors.commands.fork import Question
    from traitors.episode.fork import Parent

DEFAULT_SAMPLES = 10
SHOWN = 10
"""Messages shown in the ranking by default."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``influence`` subcommand."""
    parser = subparsers.add_parser(
        "influence",
        help="rank an episode's messages by their causal effect on the next vote",
        description=(
            "Fork EPISODE_DIR at each public message of --phase with the message dropped "
            "(--unit claim: only its structured claims), --samples continuations per arm "
            "plus a control arm keeping the message, and rank the messages by their effect "
            "on who the next public vote decides (difference of proportions, Newcombe 95% "
            "interval). Every outcome per message: traitors analyze OUT --group causal."
        ),
    )
    parser.add_argument("episode_dir", type=Path, metavar="EPISODE_DIR")
    parser.add_argument("--phase", default="discussion", help="phase of the messages")
    parser.add_argument(
        "--unit",
        choices=("message", "claim"),
        default="message",
        help="drop whole messages, or only the claims of messages that make some",
    )
    parser.add_argument("--samples", type=int, default=DEFAULT_SAMPLES, metavar="N")
    parser.add_argument("--top", type=int, default=SHOWN, metavar="K", help="messages shown")
    parser.add_argument("--dry-run", action="store_true", help="print the forks' expected cost")
    add_run_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``traitors influence``; exit codes as ``traitors sweep``."""
    from rich.console import Console

    from traitors.commands.fork import fork_estimates, fork_table, fork_work, open_parent
    from traitors.commands.preflight import check_jobs
    from traitors.commands.run import budget_for, check_run_options, run_work
    from traitors.episode.fork import ForkError

    check_run_options(args)
    if args.samples < 1 or args.top < 1:
        raise UsageError("--samples and --top must be at least 1")
    console = Console()
    try:
        parent = open_parent(args.episode_dir)
        questions, skipped = message_questions(parent, args.phase, args.unit)
        work = fork_work(parent, questions, args.samples)
    except ForkError as exc:
        raise UsageError(str(exc)) from None
    check_jobs(work.jobs)
    for line in skipped:
        console.print(f"[yellow]left out[/] {line}", highlight=False)
    cells = fork_estimates(parent, work)
    title = f"influence of {len(questions)} message(s) of {parent.log.dir}"
    if args.dry_run:
        console.print(fork_table(title, work, cells))
        return 0
    manifest = parent.log.manifest
    out = args.out or Path("runs") / "influence" / f"{manifest.episode_id}-{args.phase}"
    console.print(f"{title}: {len(work.jobs)} forks into {out}", highlight=False)
    command = ["traitors influence", str(args.episode_dir), "--phase", args.phase]
    command += ["--unit", args.unit, "--samples", str(args.samples)]
    code = run_work(args, work, out, console, budget_for(args, cells), command)
    console.print(ranking(out, args.top))
    console.print(f"every outcome per message: traitors analyze {out} --group causal")
    return code


def message_questions(parent: Parent, phase: str, unit: str) -> tuple[list[Question], list[str]]:
    """One question per public message of ``phase``: dropped, or its claims removed; and a
    line for each message that cannot be changed so (e.g. the seat may not pass)."""
    from traitors.episode.fork import ForkError, intervene
    from traitors.game.events import Public

    messages = [
        event
        for event in parent.events
        if event.kind == "speak" and isinstance(event.visibility, Public)
    ]
    chosen = [event for event in messages if event.phase == phase]
    if not chosen:
        phases = sorted({event.phase for event in messages})
        raise ForkError(
            f"--phase {phase}: no public message in that phase; phases with messages: "
            f"{', '.join(phases) or 'none'}"
        )
    if unit == "claim":
        chosen = [event for event in chosen if getattr(event, "claims", ())]
        if not chosen:
            raise ForkError(f"--unit claim: no message of {phase} makes a structured claim")
    questions: list[Question] = []
    skipped = []
    for event in chosen:
        try:
            if unit == "claim":
                questions.append(intervene(parent, "claims", event.seq, ""))
            else:
                questions.append(intervene(parent, "drop", event.seq))
        except ForkError as exc:
            skipped.append(str(exc))
    if not questions:
        raise ForkError(f"no message of {phase} can be changed: {skipped[0]}")
    return questions, skipped


def ranking(out: Path, top: int) -> Table:
    """The messages ranked by their effect on the next decided vote, with intervals."""
    from rich.table import Table
    from rich.text import Text

    from analysis.causal import influence_table
    from analysis.errors import AnalysisError

    table = Table(title="messages ranked by their effect on who the next vote decides")
    for column in ("rank", "message", "player", "effect", "95% interval", "forks t/c"):
        table.add_column(column, overflow="fold")
    try:
        rows: pl.DataFrame = influence_table(out)
    except AnalysisError as exc:
        table.caption = str(exc)
        return table
    for rank, row in enumerate(rows.head(top).iter_rows(named=True), 1):
        effect = row["effect"]
        table.add_row(
            str(rank),
            Text(row["label"]),
            Text(row["player"] or "-"),
            "-" if effect is None else f"{effect:+.2f}",
            "-" if effect is None else f"[{row['low']:+.2f}, {row['high']:+.2f}]",
            f"{row['n_treated']}/{row['n_control']}",
        )
    table.caption = (
        "effect: change in the share of forks whose next vote decided the player when the "
        "message is dropped (treated - control)"
    )
    return table
