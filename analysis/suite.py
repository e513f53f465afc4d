"""The metric groups by name, and computing the tables of a selection of them.

The generic groups are here; each game's own groups (and which groups fit its episodes)
come from its analysis plug-in (``analysis.plugin``).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import polars as pl

from analysis import (
    causal,
    deception,
    honesty,
    inference,
    outcome,
    ratings,
    trust,
    validity,
)
from analysis.errors import AnalysisError
from analysis.loader import RunData
from analysis.plugin import GameAnalysis, Group, game_analyses
from analysis.summary import Table

__all__ = ["Group", "compute", "default_groups", "groups"]

GENERIC_GROUPS: dict[str, Group] = {
    "outcome": outcome.summaries,
    "deception": deception.summaries,
    "honesty": honesty.summaries,
    "trust": trust.summaries,
    "inference": inference.summaries,
    "ratings": ratings.summaries,
    "causal": causal.summaries,
    "validity": validity.summaries,
}
"""The groups of every game, in report order (each game's own go before the one its plug-in
names: :func:`groups`)."""

HIDDEN_SIDE_GROUPS = ("outcome", "deception", "honesty", "trust", "inference", "ratings")
"""The generic groups of a social-deduction game: they compare the hidden side (the factions
the manifests' words mark hidden) with the uncovering side, in the scenario's own words."""
OTHER_GROUPS = ("outcome",)
"""The generic groups of a game whose words mark no hidden faction."""
FORK_COLUMN = "fork.question"
"""An ``episodes`` column only fork episodes fill: with it, ``causal`` is computed by default."""
NEED_BELIEFS = frozenset({"inference"})
"""Groups computed by default only when the episodes logged belief reports (a game whose
belief probe is off logs none)."""
LLM_GROUPS = ("validity",)
"""Groups computed by default whenever the episodes called a model (a ``calls`` row)."""
THREADS = 3
"""Metric groups computed at once (of 1 to 8, the fastest here, on 2 cores)."""


def groups() -> dict[str, Group]:
    """Every metric group, in report order: the generic ones, each game's own (its plug-in's)
    just before the generic group its plug-in names (games in name order)."""
    own: dict[str, dict[str, Group]] = {}
    owners: dict[str, str] = {}
    for scenario, plugin in game_analyses().items():
        if plugin.before not in GENERIC_GROUPS:
            raise AnalysisError(
                f"{scenario}'s groups go before {plugin.before!r}, which is no generic group "
                f"({', '.join(GENERIC_GROUPS)})"
            )
        for name, group in plugin.groups.items():
            if own.get(plugin.before, {}).get(name) is group:
                continue  # a plug-in shared by two scenarios (a variant and its game)
            if name in GENERIC_GROUPS or name in owners:
                raise AnalysisError(
                    f"metric group {name!r} of {scenario} is also "
                    + (f"{owners[name]}'s" if name in owners else "a generic group")
                )
            owners[name] = scenario
            own.setdefault(plugin.before, {})[name] = group
    ordered: dict[str, Group] = {}
    for name, group in GENERIC_GROUPS.items():
        ordered.update(own.get(name, {}))
        ordered[name] = group
    return ordered


def check_groups(names: Sequence[str]) -> None:
    """Raise AnalysisError for a name that is not a metric group."""
    known = groups()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise AnalysisError(f"unknown metric group {unknown[0]!r} (choose from {', '.join(known)})")


def check_factors(data: RunData, by: Sequence[str]) -> None:
    """Raise AnalysisError for a factor that is not a column of the episodes frame."""
    columns = data.episodes.collect_schema().names()
    unknown = [f for f in by if f not in columns]
    if unknown:
        raise AnalysisError(
            f"unknown factor {unknown[0]!r}; the episodes have: {', '.join(columns)}"
        )


def fitting_groups(plugin: GameAnalysis | None, hidden: bool) -> tuple[str, ...]:
    """The groups computed by default for a game: those its plug-in declares, else the
    generic ones that fit its words (:data:`HIDDEN_SIDE_GROUPS` when they mark a hidden
    faction, else :data:`OTHER_GROUPS`) and its own."""
    if plugin is not None and plugin.default_groups is not None:
        return tuple(plugin.default_groups)
    generic = HIDDEN_SIDE_GROUPS if hidden else OTHER_GROUPS
    return (*generic, *(plugin.groups if plugin is not None else ()))


def default_groups(data: RunData) -> list[str]:
    """The groups that fit the scenarios of the loaded episodes, in report order."""
    scenarios = (
        data.episodes.group_by("scenario")
        .agg(hidden=pl.col("hidden_factions").list.len().max() > 0)
        .collect()
    )
    plugins, known = game_analyses(), groups()
    wanted: set[str] = set()
    for scenario, hidden in scenarios.iter_rows():
        fitting = fitting_groups(plugins.get(scenario), bool(hidden))
        unknown = [name for name in fitting if name not in known]
        if unknown:
            raise AnalysisError(f"{scenario}'s default groups name no group: {unknown[0]!r}")
        wanted.update(fitting)
    if data.beliefs.select(pl.len()).collect().item() == 0:
        wanted -= NEED_BELIEFS
    if FORK_COLUMN in data.episodes.collect_schema().names():
        wanted.add("causal")  # a fork directory (traitors fork, traitors influence)
    if data.calls.select(pl.len()).collect().item() > 0:
        wanted.update(LLM_GROUPS)
    return [name for name in known if name in wanted]


def compute(data: RunData, names: Sequence[str], by: Sequence[str]) -> list[Table]:
    """The tables of the groups ``names`` (those that fit the scenarios when empty), split
    by ``by``."""
    check_groups(names)
    check_factors(data, by)
    by = list(dict.fromkeys(by))
    known = groups()
    names = list(names or default_groups(data))
    # The frames are in memory and small: polars' default (streaming) engine spends more on
    # starting each query than on running it. The groups run on threads: while one waits for
    # polars (which releases the GIL), another builds its queries or runs the Elo loop.
    with pl.Config(engine_affinity="in-memory"), ThreadPoolExecutor(THREADS) as pool:
        started = {n: pool.submit(known[n], data, by) for n in sorted(names, key=_slowest_first)}
        return [table for name in names for table in started[name].result()]


def _slowest_first(name: str) -> bool:
    return name != "ratings"  # a numpy loop over every game: start it first
