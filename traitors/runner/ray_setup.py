"""Starting or joining Ray, quietly, and keeping a local instance on loopback."""

from __future__ import annotations

import os
from typing import Any

LOCAL_ENV = {
    "RAY_AUTH_MODE": "disabled",  # no token file or warning for a local instance
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # Ray's own servers listen on 127.0.0.1 only
    "RAY_USAGE_STATS_ENABLED": "0",  # no usage reports sent anywhere
}


def import_ray() -> Any:
    """Import Ray (it takes seconds: only where Ray is used)."""
    for key, value in LOCAL_ENV.items():
        os.environ.setdefault(key, value)
    import ray

    return ray


def ensure_ray(address: str | None = None, num_cpus: int | None = None) -> Any:
    """Join the cluster at ``address``, or start a local instance on loopback; return ray."""
    ray = import_ray()
    if not ray.is_initialized():
        local: dict[str, Any] = {} if address else {"_node_ip_address": "127.0.0.1"}
        if num_cpus is not None and not address:
            local["num_cpus"] = num_cpus
        ray.init(
            address=address,
            include_dashboard=False,
            logging_level="ERROR",
            log_to_driver=False,
            **local,
        )
    return ray
