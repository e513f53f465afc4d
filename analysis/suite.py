"""The metric groups by name, and computing the tables of a selection of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from analysis import (
    avalon,
    causal,
    deception,
    honesty,
    inference,
    outcome,
    paper,
    principal_agent,
    ratings,
    trust,
    validity,
)
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
    "avalon": avalon.summaries,
    "ratings": ratings.summaries,
    "principal_agent": principal_agent.summaries,
    "causal": causal.summaries,
    "validity": validity.summaries,
}
"""Every metric group, in report order."""

HIDDEN_SIDE_GROUPS = ("outcome", "deception", "honesty", "trust", "inference", "ratings")
"""The generic groups of a social-deduction game: they compare the hidden side (the factions
the manifests' words mark hidden) with the uncovering side, in the scenario's own words."""
DEFAULT_GROUPS: dict[str, tuple[str, ...]] = {
    "the_traitors": (*HIDDEN_SIDE_GROUPS, "paper"),
    "werewolf": HIDDEN_SIDE_GROUPS,
    "principal_agent": ("principal_agent",),
    "avalon": (*HIDDEN_SIDE_GROUPS, "avalon"),
}
"""The groups that fit each scenario (by its manifests' ``scenario``), computed when none are
asked for. Avalon has no elimination: there the generic groups read its speech, its P(evil)
probes and the outcome (its team votes are no elimination votes). Any other scenario gets
:data:`HIDDEN_SIDE_GROUPS` when its words mark a hidden faction, else :data:`OTHER_GROUPS`."""
OTHER_GROUPS = ("outcome",)
FORK_COLUMN = "fork.question"
"""An ``episodes`` column only fork episodes fill: with it, ``causal`` is computed by default."""
NEED_BELIEFS = frozenset({"inference"})
"""Groups computed by default only when the episodes logged belief reports (Werewolf's do
not: it has no belief probe)."""
LLM_GROUPS = ("validity",)
"""Groups computed by default whenever the episodes called a model (a ``calls`` row)."""
THREADS = 3
"""Metric groups computed at once (of 1 to 8, the fastest here, on 2 cores)."""


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


def default_groups(data: RunData) -> list[str]:
    """The groups that fit the scenarios of the loaded episodes, in report order."""
    scenarios = (
        data.episodes.group_by("scenario")
        .agg(hidden=pl.col("hidden_factions").list.len().max() > 0)
        .collect()
    )
    wanted = {
        group
        for scenario, hidden in scenarios.iter_rows()
        for group in DEFAULT_GROUPS.get(scenario, HIDDEN_SIDE_GROUPS if hidden else OTHER_GROUPS)
    }
    if data.beliefs.select(pl.len()).collect().item() == 0:
        wanted -= NEED_BELIEFS
    if FORK_COLUMN in data.episodes.collect_schema().names():
        wanted.add("causal")  # a fork directory (traitors fork, traitors influence)
    if data.calls.select(pl.len()).collect().item() > 0:
        wanted.update(LLM_GROUPS)
    return [name for name in GROUPS if name in wanted]


def compute(data: RunData, groups: Sequence[str], by: Sequence[str]) -> list[Table]:
    """The tables of ``groups`` (those that fit the scenarios when empty), split by ``by``."""
    check_groups(groups)
    check_factors(data, by)
    by = list(dict.fromkeys(by))
    names = list(groups or default_groups(data))
    # The frames are in memory and small: polars' default (streaming) engine spends more on
    # starting each query than on running it. The groups run on threads: while one waits for
    # polars (which releases the GIL), another builds its queries or runs the Elo loop.
    with pl.Config(engine_affinity="in-memory"), ThreadPoolExecutor(THREADS) as pool:
        started = {n: pool.submit(GROUPS[n], data, by) for n in sorted(names, key=_slowest_first)}
        return [table for name in names for table in started[name].result()]


def _slowest_first(name: str) -> bool:
    return name != "ratings"  # a numpy loop over every game: start it first
