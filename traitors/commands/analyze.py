"""``traitors analyze``: the metric suite over a directory of logs, as tables, files and a report.

Only argparse is imported at module level, so adding the subcommand costs nothing at start-up.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from traitors.commands.analyze_detectors import DETECTORS

if TYPE_CHECKING:
    from analysis.loader import RunData
    from analysis.summary import Table

EXIT_BAD_INPUT = 2
FORMATS = ("table", "csv", "json")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``analyze`` subcommand; its handler is :func:`run`."""
    parser = subparsers.add_parser(
        "analyze",
        help="compute the metric suite over episode logs (tables, CSV/JSON, figures, report)",
        usage=(
            "%(prog)s PATH... [--by FACTOR ...] [--metrics GROUP ...] [--out DIR] "
            "[--format table|csv|json] [--compact] [--include-degraded]"
        ),
        description=(
            "Read every complete episode under PATH (an episode, run or sweep directory) and "
            "compute the metric groups, split by the factors given with --by; one line says "
            "how many episodes were left out and why. See analysis/METRICS.md for every "
            "formula. With --metrics detectors, PATH... are judge or probe runs, scored against "
            "their datasets' labels."
        ),
    )
    parser.add_argument(
        "paths",
        type=Path,
        nargs="+",
        metavar="PATH",
        help="episode, run or sweep directory (judge or probe runs with --metrics detectors)",
    )
    parser.add_argument(
        "--by",
        action="extend",
        nargs="+",
        default=[],
        metavar="FACTOR",
        help="split by episode columns, e.g. rules.n_players or <role>_model (sweep factors "
        "are columns too)",
    )
    parser.add_argument(
        "--metrics",
        "--group",
        action="extend",
        nargs="+",
        default=[],
        metavar="GROUP",
        help="metric groups: outcome deception honesty trust inference ratings validity "
        "causal, and each installed game's own (a wrong name lists them all; default: the "
        "groups that fit the runs' scenarios; causal for a directory of forks); detectors "
        "scores judge and probe runs",
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="write CSV tables, PNG figures and report.html"
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="table", help="terminal output (default: table)"
    )
    parser.add_argument(
        "--compact",
        action="store_true",
        help="first write the frames as Parquet into PATH/.compact (reused while up to date)",
    )
    parser.add_argument(
        "--include-degraded",
        action="store_true",
        help="also read degraded episodes (failed model calls or defaulted actions beyond the "
        "spec's limits), left out by default; the episodes' status column tells them apart",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``traitors analyze``; bad input prints one line and returns 2."""
    from analysis.errors import AnalysisError

    try:
        return _analyze(args)
    except AnalysisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _analyze(args: argparse.Namespace) -> int:
    from rich.console import Console

    from analysis.detector_runs import is_detector_run
    from analysis.errors import AnalysisError
    from analysis.loader import compact, load
    from analysis.render import print_tables, to_csv, to_json
    from analysis.suite import check_groups, compute

    if DETECTORS in args.metrics or is_detector_run(args.paths[0]):
        from traitors.commands.analyze_detectors import analyze_detectors

        return analyze_detectors(args)
    if len(args.paths) > 1:
        raise AnalysisError(
            "several PATHs are read only as judge or probe runs (--metrics detectors)"
        )
    args.path = args.paths[0]
    check_groups(args.metrics)
    if not args.path.exists():  # an episode packed into its run's shard
        from traitors.store.shards import resolve_episode, shard_files

        if not shard_files(args.path.parent):
            raise AnalysisError(f"{args.path}: no such directory")
        try:
            args.path = resolve_episode(args.path)
        except FileNotFoundError as exc:
            raise AnalysisError(str(exc)) from None
    console = Console()
    notes = Console(stderr=True) if args.format != "table" else console
    if args.compact:
        notes.print(
            f"compacted the logs into {compact(args.path)}", highlight=False, soft_wrap=True
        )
    data = load(args.path, include_degraded=args.include_degraded)
    by = list(dict.fromkeys(args.by))  # a factor given twice is one factor
    tables = compute(data, args.metrics, by)
    summary = _describe(data)
    notes.print(summary, highlight=False, soft_wrap=True)
    lines = [t.title for t in tables if not t.frame.width]  # e.g. the validity warning
    for line in lines:
        notes.print(line, highlight=False, soft_wrap=True)
    tables = [t for t in tables if t.frame.width]
    if args.format == "table":
        print_tables(tables, console)
    else:
        sys.stdout.write(to_csv(tables) if args.format == "csv" else to_json(tables) + "\n")
    if args.out is not None:
        report = _write_outputs(data, tables, by, args.out, [summary, *lines])
        notes.print(f"wrote tables, figures and {report}", highlight=False, soft_wrap=True)
    return 0


def _describe(data: RunData) -> str:
    """One line: the episodes read, those left out and why, and where they came from."""
    import polars as pl

    statuses = dict(
        data.episodes.group_by("status").agg(pl.len()).collect().select("status", "len").rows()
    )
    read = sum(statuses.values())
    kinds = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items(), key=str))
    only_complete = set(statuses) <= {"complete"}
    line = (
        f"{read} complete episode(s) in {data.root}"
        if only_complete
        else f"{read} episode(s) in {data.root} ({kinds})"
    )
    reasons = [
        f"{data.degraded} degraded (--include-degraded keeps them)" if data.degraded else "",
        f"{data.failed} failed" if data.failed else "",
        f"{data.incomplete} incomplete" if data.incomplete else "",
        f"{data.duplicates} duplicate(s)" if data.duplicates else "",
        _damaged(data.damaged),
    ]
    left_out = ", ".join(r for r in reasons if r)
    line += f"; left out: {left_out}" if left_out else "; none left out"
    return line + ("; read from the Parquet cache" if data.cached else "")


def _damaged(directories: Sequence[str]) -> str:
    """How many episodes were left out for damaged logs, naming the first few."""
    if not directories:
        return ""
    named = ", ".join(directories[:3]) + (", ..." if len(directories) > 3 else "")
    return f"{len(directories)} with damaged logs ({named})"


def _write_outputs(
    data: RunData, tables: Sequence[Table], by: Sequence[str], out: Path, lines: Sequence[str]
) -> Path:
    """CSV per table, PNG figures, the cited episodes' HTML replays (a bounded sample) and
    report.html into ``out``, with the ``lines`` printed above the tables (the summary, the
    groups' notes and the validity warning); returns the report's path."""
    from analysis.figures import draw_figures
    from analysis.render import write_csv_files
    from analysis.replays import export_replays
    from analysis.report import write_report
    from traitors.view.htmlreplay.page import episode_page

    out.mkdir(parents=True, exist_ok=True)
    write_csv_files(tables, out)
    figures = draw_figures(data, tables, by, out)
    replays = export_replays(data, tables, out, episode_page)
    split = f"Split by: {', '.join(by)}." if by else "All episodes together."
    notes = [*lines, split, "Formulas: analysis/METRICS.md."]
    return write_report(out / "report.html", "traitors analysis", notes, tables, figures, replays)
