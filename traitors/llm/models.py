"""Which model names can be served, checked when a spec is read (before anything runs).

``local/<preset or file.gguf>``, ``fake/<name>`` and ``hosted/<name>`` are this package's own
providers; anything else must be a model litellm can route to a provider (litellm is imported
only then, since the call would import it anyway).
"""

from __future__ import annotations

from traitors.llm.library import import_litellm

LOCAL_PRESETS = ("smollm2-135m", "gemma3-270m")
"""The embedded models (``local/<preset>``), shipped as pip packages."""
OWN_PROVIDERS = ("local", "fake", "hosted")


def model_problem(model: str) -> str | None:
    """Why ``model`` cannot be served, or None if it can."""
    if not model.strip() or model != model.strip():
        return f"{model!r} is not a model name"
    provider, slash, name = model.partition("/")
    if provider in OWN_PROVIDERS:
        if not slash or not name:
            return f"{model!r} names no model after {provider}/"
        if provider == "local" and name not in LOCAL_PRESETS and not name.endswith(".gguf"):
            return f"unknown local model {name!r}: use {', '.join(LOCAL_PRESETS)} or a .gguf path"
        return None
    litellm = import_litellm()
    try:
        litellm.get_llm_provider(model)
    except Exception:
        return f"no provider serves {model!r} (write provider/model, e.g. openai/gpt-4o-mini)"
    return None
