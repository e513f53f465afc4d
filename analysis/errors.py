"""The one exception analysis raises for bad input (a path, a factor, a metric group)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class AnalysisError(ValueError):
    """Bad input to the analysis: the CLI prints it as one line and exits with code 2."""


def no_complete_episodes(
    root: Path, degraded: int, failed: int, incomplete: int, damaged: Sequence[str] = ()
) -> AnalysisError:
    """The error of a path with nothing to analyse, saying what was left out and why (the
    files of the damaged episodes named)."""
    named = ", ".join(damaged[:3]) + (", ..." if len(damaged) > 3 else "")
    notes = [
        f"{degraded} degraded left out, --include-degraded keeps them" if degraded else "",
        f"{failed} failed" if failed else "",
        f"{incomplete} incomplete" if incomplete else "",
        f"{len(damaged)} with damaged logs: {named}" if damaged else "",
    ]
    details = "; ".join(n for n in notes if n) or "none found"
    return AnalysisError(f"{root}: no complete episodes ({details})")
