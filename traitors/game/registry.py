"""Name -> object registries for scenarios, policies, each scenario's heuristic policy and
each scenario's analysis plug-in.

The engine never imports a scenario or an agent by name: installed packages announce
them through the entry-point groups ``traitors.scenarios``, ``traitors.policies``,
``traitors.heuristics`` (scenario name -> its scripted heuristic) and ``traitors.analysis``
(scenario name -> what it brings to the analysis and the rules-text check, an
``analysis.plugin.GameAnalysis``) and ``traitors.importers`` (format name -> the reader of
another engine's records, a ``traitors.store.imported.Importer``), and code can add more at
run time with ``register_scenario`` / ``register_policy`` / ``register_heuristic`` /
``register_analysis`` / ``register_importer``.
"""

from __future__ import annotations

import functools
from importlib.metadata import EntryPoint, entry_points
from typing import Any

_GROUPS = {
    "scenario": "traitors.scenarios",
    "policy": "traitors.policies",
    "heuristic": "traitors.heuristics",
    "analysis": "traitors.analysis",
    "importer": "traitors.importers",
}
_registered: dict[str, dict[str, Any]] = {kind: {} for kind in _GROUPS}


class UnknownName(LookupError):
    """No scenario, policy, heuristic or analysis plug-in of that name is installed."""


def register_scenario(name: str, rules_class: Any) -> None:
    """Make a rules class available under ``name``."""
    _registered["scenario"][name] = rules_class


def register_policy(name: str, policy_class: Any) -> None:
    """Make a policy class available under ``name``."""
    _registered["policy"][name] = policy_class


def register_heuristic(scenario: str, policy_class: Any) -> None:
    """Make ``policy_class`` the ``heuristic`` policy of ``scenario``."""
    _registered["heuristic"][scenario] = policy_class


def register_analysis(scenario: str, plugin: Any) -> None:
    """Make ``plugin`` (an ``analysis.plugin.GameAnalysis``) the analysis plug-in of
    ``scenario``: its metric groups, frames, figures and rule facts."""
    _registered["analysis"][scenario] = plugin


def register_importer(name: str, importer: Any) -> None:
    """Make ``importer`` (a ``traitors.store.imported.Importer``) read the format ``name``
    for ``traitors import``."""
    _registered["importer"][name] = importer


@functools.cache
def _installed(kind: str) -> dict[str, EntryPoint]:
    """The installed entry points of a kind (read once per process)."""
    return {ep.name: ep for ep in entry_points(group=_GROUPS[kind])}


def names(kind: str) -> list[str]:
    """Every registered name of a kind (``scenario``, ``policy``, ``heuristic``,
    ``analysis`` or ``importer``)."""
    return sorted(set(_installed(kind)) | set(_registered[kind]))


def lookup(kind: str, name: str) -> Any:
    """The class registered under ``name``; raise UnknownName listing what exists."""
    if name in _registered[kind]:
        return _registered[kind][name]
    entry = _installed(kind).get(name)
    if entry is None:
        raise UnknownName(f"unknown {kind} {name!r}; known: {', '.join(names(kind)) or 'none'}")
    loaded = entry.load()
    _registered[kind][name] = loaded
    return loaded
