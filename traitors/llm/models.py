"""Which model names can be served, checked when a spec is read (before anything runs).

``local/<preset or file.gguf>``, ``fake/<name>`` and ``hosted/<name>`` are this package's own
providers; anything else must be a model litellm can route to a provider (litellm is imported
only then, since the call would import it anyway). Each family's rule is its endpoint's
``check_model`` (``traitors.llm.endpoints``), and its ``check_options`` says which agent
options (reasoning effort, thinking budget, api_base) a model takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from traitors.llm.endpoints import endpoint_for
from traitors.llm.library import import_litellm


def model_problem(model: str) -> str | None:
    """Why ``model`` cannot be served, or None if it can."""
    if not model.strip() or model != model.strip():
        return f"{model!r} is not a model name"
    return endpoint_for(model).check_model(model)


def options_problem(model: str, options: Mapping[str, Any]) -> tuple[str, str] | None:
    """The agent option ``model`` does not take (of ``reasoning_effort``, ``thinking_budget``
    and ``api_base``; litellm's supported-parameter lookup decides for its models), and why."""
    given = {name: value for name, value in options.items() if value is not None}
    return endpoint_for(model).check_options(model, given) if given else None


def unknown_model_problem(model: str, api_base: str | None) -> tuple[str, str] | None:
    """A model litellm routes but does not know (no price, no context window), with no
    ``api_base`` naming a server that serves it: most likely a typo, refused up front."""
    if api_base is not None or endpoint_for(model).family != "litellm":
        return None
    try:
        import_litellm().get_model_info(model)
    except Exception:
        return (
            "model",
            f"litellm does not know {model!r} (a typo, or a model newer than its cost map): "
            "name a known one (traitors models lists prices and context), or give the "
            "server that serves it in agents.*.api_base",
        )
    return None
