"""``traitors judge DATASET --model M``: a model asked, per statement of a dataset, whether its
speaker is lying; ``traitors judge --replay RUN`` re-runs a judge run from its record.

Only argparse is imported at module level, so adding the subcommand costs nothing at start-up.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from traitors.commands.options import UsageError
from traitors.commands.run import budget_options

if TYPE_CHECKING:
    from traitors.sweep.budget import Spend
    from traitors.sweep.judge import JudgeResult, JudgeSettings
    from traitors.sweep.judge_prompt import Statement

EXIT_BUDGET = 3
MAX_PROMPT_BYTES = 100_000
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``judge`` subcommand; its handler is :func:`run`."""
    parser = subparsers.add_parser(
        "judge",
        help="ask a model, per statement of a dataset, whether its speaker is lying",
        usage=(
            "%(prog)s DATASET --model M [--prompt FILE] [--context public|role] [--out DIR] "
            "[--runs RUN ...] [--split S] [--concurrency K] [--max-cost USD] [--max-tokens N]\n"
            "       %(prog)s --replay RUN"
        ),
        description=(
            "Ask M, for each statement of DATASET (traitors dataset's output), for the "
            "probability that its speaker is lying, given the public transcript before it "
            "(and with --context role the speaker's role). Calls are concurrent, budgeted and "
            "recorded in --out (default runs/judges/<dataset>-<model>); the same command "
            "resumes. --replay RUN re-runs a judge run from its record with no model."
        ),
    )
    parser.add_argument("dataset", type=Path, nargs="?", metavar="DATASET")
    parser.add_argument("--model", metavar="M", help="the judge, e.g. openai/gpt-4o-mini")
    parser.add_argument("--prompt", type=Path, metavar="FILE", help="the user message template")
    parser.add_argument("--context", choices=("public", "role"), default="public")
    parser.add_argument("--out", type=Path, metavar="DIR", help="judge run directory")
    parser.add_argument(
        "--runs",
        type=Path,
        nargs="+",
        metavar="RUN",
        help="the runs the dataset was exported from, to read transcripts from (default: the "
        "sources its card names; not needed for a dataset with --inline-context)",
    )
    parser.add_argument(
        "--split", action="append", default=[], metavar="S", help="judge only split S"
    )
    parser.add_argument("--concurrency", type=int, default=8, metavar="K", help="calls at once")
    parser.add_argument(
        "--max-cost", type=float, metavar="USD", help="start no call that would pass USD"
    )
    parser.add_argument("--max-tokens", type=float, metavar="N", help="the same in tokens")
    parser.add_argument(
        "--reply-tokens", type=int, default=64, metavar="N", help="max_tokens of each reply"
    )
    parser.add_argument("--replay", type=Path, metavar="RUN", help="re-run RUN with no model")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``traitors judge``: 0 every statement scored, 1 some without a score, 2 bad input,
    3 stopped by the budget (130 interrupted, as every command)."""
    from analysis.errors import AnalysisError
    from traitors.store.log import LogError
    from traitors.sweep.judge import JudgeError

    try:
        return _replay(args.replay) if args.replay is not None else _judge(args)
    except (AnalysisError, JudgeError, LogError) as exc:
        raise UsageError(str(exc)) from None


def _judge(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from traitors.sweep.judge import JudgeSettings, run_judge
    from traitors.sweep.judge_prompt import DEFAULT_TEMPLATE, template_problem

    if args.dataset is None or args.model is None:
        raise UsageError("judge needs DATASET and --model M (or --replay RUN)")
    _check_numbers(args)
    _preflight(args.model)
    template = _template(args.prompt) if args.prompt else DEFAULT_TEMPLATE
    if problem := template_problem(template, args.context):
        raise UsageError(f"{args.prompt}: {problem}")
    dataset = args.dataset.resolve()
    statements, runs = dataset_statements(dataset, args.split, args.runs)
    settings = JudgeSettings(
        model=args.model,
        template=template,
        context=args.context,
        reply_tokens=args.reply_tokens,
        splits=tuple(args.split),
        runs=tuple(str(r) for r in runs),
    )
    suffix = "-role" if args.context == "role" else ""
    out = args.out or Path("runs/judges") / f"{dataset.name}-{UNSAFE.sub('_', args.model)}{suffix}"
    print(f"judging {len(statements)} statements of {args.dataset} with {args.model} into {out}")
    with Progress(transient=True, console=Console(stderr=True)) as progress:
        task = progress.add_task("judging", total=None)
        result = run_judge(
            statements,
            settings,
            dataset,
            out,
            args.concurrency,
            args.max_cost,
            args.max_tokens,
            on_answer=lambda done, todo: progress.update(task, completed=done, total=todo),
        )
    return _report(result, settings, out, args)


def _replay(run_dir: Path) -> int:
    from traitors.store.detector import read_manifest
    from traitors.sweep.judge import JudgeSettings, replay_judge

    manifest = read_manifest(run_dir)
    if manifest.kind != "judge":
        raise UsageError(f"{run_dir}: a {manifest.kind} run, not a judge run")
    settings = JudgeSettings.model_validate(manifest.settings)
    runs = [Path(r) for r in settings.runs]
    statements, _ = dataset_statements(Path(manifest.dataset), settings.splits, runs)
    divergence = replay_judge(statements, settings, run_dir)
    if divergence is not None:
        print(f"DIVERGED {run_dir}: {divergence}")
        return 1
    calls = int(manifest.usage.get("calls", 0))
    print(f"OK {run_dir} ({len(statements)} statements, {calls} calls, the same scores)")
    return 0


def dataset_statements(
    dataset: Path, splits: Sequence[str], runs: Sequence[Path] | None
) -> tuple[list[Statement], list[Path]]:
    """The dataset's statements with their transcripts, and the runs these were read from."""
    from analysis.dataset_read import card_sources, claims_words, read_dataset, with_transcripts
    from traitors.sweep.judge_prompt import Statement

    rows = read_dataset(dataset, splits)
    if not rows.height:
        raise UsageError(f"{dataset}: no statements{' in ' + ', '.join(splits) if splits else ''}")
    if "context" in rows.columns:
        used: list[Path] = []
    else:
        used = [r.resolve() for r in (runs or card_sources(dataset))]
    rows = with_transcripts(rows, used)
    statements = [
        Statement(
            episode=row["episode"],
            seq=row["seq"],
            scenario=row["scenario"],
            speaker=row["speaker"],
            role=row["speaker_role"],
            side=row["speaker_side"],
            text=row["text"],
            claims=claims_words(row["claims"]),
            transcript=row["context"],
        )
        for row in rows.iter_rows(named=True)
    ]
    return statements, used


def _check_numbers(args: argparse.Namespace) -> None:
    for name, least in (("concurrency", 1), ("reply_tokens", 1)):
        if getattr(args, name) < least:
            raise UsageError(f"--{name.replace('_', '-')} must be at least {least}")
    for name in ("max_cost", "max_tokens"):
        if getattr(args, name) is not None and getattr(args, name) <= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be positive")


def _preflight(model: str) -> None:
    """One line, before anything is read or called, for a model no provider serves, one
    litellm does not know, one whose key is not set, or a model file that does not exist."""
    from traitors.llm.models import model_problem, unknown_model_problem
    from traitors.llm.preflight import file_problem, key_problem

    if problem := model_problem(model):
        raise UsageError(f"--model {problem}")
    if unknown_model_problem(model, None):
        raise UsageError(
            f"--model: litellm does not know {model!r} (a typo, or a model newer than its cost "
            "map); traitors models SPEC lists a spec's models with their prices"
        )
    if problem := key_problem(model) or file_problem(model):
        raise UsageError(problem)


def _template(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_PROMPT_BYTES:
        raise UsageError(f"{path}: over {MAX_PROMPT_BYTES:,} bytes")
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None


def _report(
    result: JudgeResult, settings: JudgeSettings, out: Path, args: argparse.Namespace
) -> int:
    manifest = result.manifest
    usage = manifest.usage
    print(
        f"{manifest.scored} of {manifest.statements} statements scored ({result.kept} kept "
        f"from before); {result.called} calls now, {int(usage['calls'])} in all, "
        f"{int(usage['prompt_tokens'] + usage['completion_tokens']):,} tokens, "
        f"${usage['cost']:.4f}"
    )
    failed = {k: n for k, n in manifest.failed.items() if k != "not_started"}
    if failed:
        reasons = ", ".join(f"{k} {n}" for k, n in failed.items())
        print(f"{sum(failed.values())} statements without a score (failed calls: {reasons})")
    resume = _resume_command(args, out)
    if result.budget_stopped:
        left = manifest.failed.get("not_started", 0)
        total = _spend_with(usage, left)
        print(
            f"budget reached: {left} statements not asked. The budget counts this run's "
            "earlier calls too; at their mean spend, with a fifth more for chance, this "
            f"asks them all:\n  {_resume_command(args, out, total)}"
        )
        return EXIT_BUDGET
    if failed:
        print(f"the same command asks them again:\n  {resume}")
        return 1
    print(f"wrote {out} ({settings.name})")
    return 0


def _spend_with(usage: Mapping[str, float], left: int) -> Spend:
    """What the run is expected to have spent once ``left`` more statements are asked, at
    the mean spend of its calls so far."""
    from traitors.sweep.budget import Spend

    calls = max(usage["calls"], 1)
    spent = Spend(usage["cost"], usage["prompt_tokens"] + usage["completion_tokens"])
    scale = 1 + left / calls
    return Spend(spent.cost * scale, spent.tokens * scale)


def _resume_command(args: argparse.Namespace, out: Path, total: Spend | None = None) -> str:
    """The command that carries on (with a budget for a ``total`` spend, when given)."""
    parts = ["traitors judge", str(args.dataset), "--model", args.model, "--out", str(out)]
    if args.prompt:
        parts += ["--prompt", str(args.prompt)]
    if args.context != "public":
        parts += ["--context", args.context]
    for split in args.split:
        parts += ["--split", split]
    if args.runs:
        parts += ["--runs", *map(str, args.runs)]
    parts += budget_options(args, total)
    if args.reply_tokens != 64:
        parts += ["--reply-tokens", str(args.reply_tokens)]
    return " ".join(parts)
