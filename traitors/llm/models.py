"""Which model names can be served, checked when a spec is read (before anything runs).

``local/<preset or file.gguf>``, ``fake/<name>`` and ``hosted/<name>`` are this package's own
providers; anything else must be a model litellm can route to a provider (litellm is imported
only then, since the call would import it anyway). Each family's rule is its endpoint's
``check_model`` (``traitors.llm.endpoints``).
"""

from __future__ import annotations

from traitors.llm.endpoints import endpoint_for


def model_problem(model: str) -> str | None:
    """Why ``model`` cannot be served, or None if it can."""
    if not model.strip() or model != model.strip():
        return f"{model!r} is not a model name"
    return endpoint_for(model).check_model(model)
