"""``traitors dataset RUN... --out DIR``: the labelled statements of runs as a Hugging Face
dataset (Parquet splits and a dataset card).

Only argparse is imported at module level, so adding the subcommand costs nothing at start-up.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_BAD_INPUT = 2


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``dataset`` subcommand; its handler is :func:`run`."""
    parser = subparsers.add_parser(
        "dataset",
        help="export the runs' statements, labelled lie/mistake/honest/unknown, as a dataset",
        description=(
            "Write one row per public statement of the complete episodes under each RUN (an "
            "episode, run or sweep directory, loose or compacted): its claims judged against "
            "the roles and the speaker's own belief, and a label (lie, mistake, honest, "
            "unknown), as Parquet files per split (train/validation/test by episode) under "
            "DIR/data and a dataset card DIR/README.md. See analysis/METRICS.md."
        ),
    )
    parser.add_argument("runs", type=Path, nargs="+", metavar="RUN", help="directories to read")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="dataset directory")
    parser.add_argument(
        "--inline-context",
        action="store_true",
        help="add a context column holding the public events each speaker had seen (default: "
        "a pointer, the seq range of those events in the episode's log)",
    )
    parser.add_argument(
        "--include-degraded",
        action="store_true",
        help="also read degraded episodes (their status column tells them apart)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``traitors dataset``: one line per input read or left out; returns 2 when there was
    nothing to export or the output cannot be written."""
    from analysis.dataset_export import export

    if args.out.exists() and not args.out.is_dir():
        return _error(f"{args.out}: not a directory")
    try:
        done = export(args.runs, args.out, args.inline_context, args.include_degraded)
    except OSError as exc:
        return _error(f"{args.out}: cannot write: {exc.strerror or exc}")
    for note in done.notes:
        print(note, file=sys.stderr)
    if not done.files:
        return EXIT_BAD_INPUT
    labels = done.rows["label"].value_counts(sort=True).rows()
    counts = ", ".join(f"{label} {n}" for label, n in labels)
    print(f"wrote {args.out}: {done.rows.height} statements ({counts})")
    return 0


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT
