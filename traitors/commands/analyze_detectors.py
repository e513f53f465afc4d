"""``traitors analyze RUN... --metrics detectors``: judge and probe runs scored against their
datasets' labels, as tables, CSV/JSON, the reliability figure and a report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analysis.summary import Table

DETECTORS = "detectors"
"""The metric group that scores judge and probe runs (not episodes)."""


def analyze_detectors(args: argparse.Namespace) -> int:
    """Score the runs ``args.paths``; bad input raises AnalysisError (one line)."""
    from rich.console import Console

    from analysis.detector_runs import load_detector_runs
    from analysis.detectors import tables as detector_tables
    from analysis.errors import AnalysisError
    from analysis.render import print_tables, to_csv, to_json

    others = [m for m in args.metrics if m != DETECTORS]
    if others:
        raise AnalysisError(f"--metrics {DETECTORS} reads judge and probe runs: no {others[0]}")
    if args.by or args.compact or args.include_degraded:
        raise AnalysisError(
            f"--metrics {DETECTORS} splits by scenario, role and speaker model itself; "
            "--by, --compact and --include-degraded are for episodes"
        )
    runs = load_detector_runs(args.paths)
    console = Console()
    notes = Console(stderr=True) if args.format != "table" else console
    lines = [
        f"{run.name}: {run.path} ({run.manifest.status}, {run.manifest.scored} of "
        f"{run.manifest.statements} statements scored"
        + (f"; without a score: {_reasons(run.manifest.failed)}" if run.manifest.failed else "")
        + ")"
        for run in runs
    ]
    for line in lines:
        notes.print(line, highlight=False, soft_wrap=True, markup=False)
    tables = detector_tables(runs)
    if args.format == "table":
        print_tables(tables, console)
    else:
        sys.stdout.write(to_csv(tables) if args.format == "csv" else to_json(tables) + "\n")
    if args.out is not None:
        report = _write(tables, args, lines)
        notes.print(f"wrote tables, figures and {report}", highlight=False, soft_wrap=True)
    return 0


def _reasons(failed: dict[str, int]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in failed.items())


def _write(tables: list[Table], args: argparse.Namespace, lines: list[str]) -> Path:
    from analysis.detector_figures import reliability_figure
    from analysis.render import write_csv_files
    from analysis.report import write_report

    args.out.mkdir(parents=True, exist_ok=True)
    write_csv_files(tables, args.out)
    figures = reliability_figure(tables, args.out)
    notes = [*lines, "Formulas: analysis/METRICS.md (detectors)."]
    return write_report(args.out / "report.html", "traitors lie detectors", notes, tables, figures)
