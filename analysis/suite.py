"""The metric groups by name, and computing the tables of a selection of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from analysis import deception, honesty, inference, outcome, paper, ratings, trust
from analysis.errors import AnalysisError
from analysis.loader import RunData
from analysis.summary import Table

Group = Callable[[RunData, Sequence[str]], list[Table]]

GROUPS: dict[str, Group] = {
    "outcome": outcome.summaries,
    "deception": deception.summaries,
    "honesty": honesty.summaries,
    "trust": trust.summaries,
    "inference": inference.summaries,
    "paper": paper.summaries,
    "ratings": ratings.summaries,
}
"""Every metric group, in report order."""


def check_groups(names: Sequence[str]) -> None:
    """Raise AnalysisError for a name that is not a metric group."""
    unknown = [n for n in names if n not in GROUPS]
    if unknown:
        raise AnalysisError(
            f"unknown metric group {unknown[0]!r} (choose from {', '.join(GROUPS)})"
        )


def check_factors(data: RunData, by: Sequence[str]) -> None:
    """Raise AnalysisError for a factor that is not a column of the episodes frame."""
    columns = data.episodes.collect_schema().names()
    unknown = [f for f in by if f not in columns]
    if unknown:
        raise AnalysisError(
            f"unknown factor {unknown[0]!r}; the episodes have: {', '.join(columns)}"
        )


def compute(data: RunData, groups: Sequence[str], by: Sequence[str]) -> list[Table]:
    """The tables of ``groups`` (all when empty), split by the factors ``by``."""
    check_groups(groups)
    check_factors(data, by)
    return [table for name in groups or GROUPS for table in GROUPS[name](data, by)]
