"""litellm, imported on first use with the project's settings (it takes seconds to import)."""

from __future__ import annotations

import os
from typing import Any


def import_litellm() -> Any:
    """The litellm module, reading prices from its bundled cost map (never the network)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    return litellm
