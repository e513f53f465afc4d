"""Name -> class registries for scenarios and policies.

The engine never imports a scenario or an agent by name: installed packages announce
them through the entry-point groups ``traitors.scenarios`` and ``traitors.policies``, and
code can add more at run time with ``register_scenario`` / ``register_policy``.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

_GROUPS = {"scenario": "traitors.scenarios", "policy": "traitors.policies"}
_registered: dict[str, dict[str, Any]] = {"scenario": {}, "policy": {}}


class UnknownName(LookupError):
    """No scenario or policy of that name is installed."""


def register_scenario(name: str, rules_class: Any) -> None:
    """Make a rules class available under ``name``."""
    _registered["scenario"][name] = rules_class


def register_policy(name: str, policy_class: Any) -> None:
    """Make a policy class available under ``name``."""
    _registered["policy"][name] = policy_class


def names(kind: str) -> list[str]:
    """Every registered name of a kind (``scenario`` or ``policy``)."""
    found = {ep.name for ep in entry_points(group=_GROUPS[kind])}
    return sorted(found | set(_registered[kind]))


def lookup(kind: str, name: str) -> Any:
    """The class registered under ``name``; raise UnknownName listing what exists."""
    if name in _registered[kind]:
        return _registered[kind][name]
    for ep in entry_points(group=_GROUPS[kind], name=name):
        loaded = ep.load()
        _registered[kind][name] = loaded
        return loaded
    raise UnknownName(f"unknown {kind} {name!r}; known: {', '.join(names(kind)) or 'none'}")
