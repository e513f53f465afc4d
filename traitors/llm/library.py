"""litellm, imported on first use with the project's settings (it takes seconds to import)."""

from __future__ import annotations

import os
from typing import Any

OFFLINE_SETTINGS = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # prices from the bundled cost map, at import
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",  # the bundled config, at the first call
}
"""litellm's switches that keep it from fetching its own catalogues from the network."""


def import_litellm() -> Any:
    """The litellm module, reading prices and provider settings from its bundled copies (never
    the network: only the calls an agent makes reach a provider)."""
    for name, value in OFFLINE_SETTINGS.items():
        os.environ.setdefault(name, value)
    import litellm

    litellm.suppress_debug_info = True
    return litellm
