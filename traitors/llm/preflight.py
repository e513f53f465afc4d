"""What a model needs before a run calls it, and the facts ``traitors models`` shows.

Only litellm's own providers need keys; the embedded, fake and hosted models need none. An
embedded model read from a ``.gguf`` file needs the file.
litellm is imported only when such a model is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from traitors.llm.endpoints import endpoint_for
from traitors.llm.gateway import SECRET_NAME
from traitors.llm.library import import_litellm

PER_MILLION = 1_000_000


@dataclass(frozen=True)
class ModelFacts:
    """One model as its provider and litellm's cost map describe it (None: not known)."""

    model: str
    endpoint: str
    missing_keys: tuple[str, ...]
    input_price: float | None
    """Dollars per million prompt tokens."""
    cached_price: float | None
    """Dollars per million prompt tokens read from the provider's cache."""
    output_price: float | None
    """Dollars per million completion tokens."""
    context: int | None
    """Most prompt tokens the model takes."""
    json_schema: bool | None
    reasoning: bool | None


def missing_keys(model: str) -> tuple[str, ...]:
    """The provider's secret variables (API keys, tokens) that are not set for ``model``."""
    if endpoint_for(model).family != "litellm":
        return ()
    litellm = import_litellm()
    try:
        found = litellm.validate_environment(model=model)
    except Exception:  # a provider litellm cannot check: the first call will say
        return ()
    return tuple(name for name in found.get("missing_keys", ()) if SECRET_NAME.search(name))


def key_problem(model: str) -> str | None:
    """One line naming the model and the unset variables, or None."""
    missing = missing_keys(model)
    if not missing:
        return None
    return f"{model}: {', '.join(missing)} not set (export the provider's key, or pick a model)"


def file_problem(model: str) -> str | None:
    """One line naming a ``local/`` model whose ``.gguf`` file does not exist, or None (a
    preset's package is looked for when the model is loaded)."""
    if endpoint_for(model).family != "local":
        return None
    name = model.partition("/")[2]
    path = Path(name).expanduser()
    if not name.endswith(".gguf") or path.is_file():
        return None
    return f"{model}: local model file {str(path)!r} does not exist"


def model_facts(model: str) -> ModelFacts:
    """What is known of ``model`` without calling it."""
    family = endpoint_for(model).family
    if family in ("local", "fake"):
        return ModelFacts(model, family, (), 0.0, 0.0, 0.0, None, True, False)
    info = _info(model)
    return ModelFacts(
        model=model,
        endpoint=family,
        missing_keys=missing_keys(model),
        input_price=_per_million(info.get("input_cost_per_token")),
        cached_price=_per_million(info.get("cache_read_input_token_cost")),
        output_price=_per_million(info.get("output_cost_per_token")),
        context=info.get("max_input_tokens"),
        json_schema=info.get("supports_response_schema"),
        reasoning=info.get("supports_reasoning"),
    )


def _info(model: str) -> dict[str, Any]:
    litellm = import_litellm()
    try:
        return dict(litellm.get_model_info(model))
    except Exception:  # not in litellm's cost map (e.g. a hosted or brand-new model)
        return {}


def _per_million(per_token: Any) -> float | None:
    return None if per_token is None else float(per_token) * PER_MILLION
