"""The one exception analysis raises for bad input (a path, a factor, a metric group)."""

from __future__ import annotations


class AnalysisError(ValueError):
    """Bad input to the analysis: the CLI prints it as one line and exits with code 2."""
