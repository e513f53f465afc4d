"""Analysis of run logs (reads logs only, never the engine).

``analysis.load(path)`` gives the polars frames of the complete episodes of an episode, run
or sweep directory (``include_degraded=True`` adds the degraded ones); the generic metric
modules (outcome, deception, honesty, trust, inference, ratings, causal, validity) compute
from them, naming each scenario's factions as its manifests' words do, and each game's
plug-in (``analysis.plugin``, entry points ``traitors.analysis``) brings its own groups.
``analysis/METRICS.md`` gives every formula. Submodules are imported on first use, so
``traitors --help`` does not pay for polars.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analysis.errors import AnalysisError
    from analysis.loader import RunData, compact, load

__all__ = ["AnalysisError", "RunData", "compact", "load"]


def __getattr__(name: str) -> Any:
    if name == "AnalysisError":
        from analysis.errors import AnalysisError

        return AnalysisError
    if name in ("RunData", "compact", "load"):
        from analysis import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
