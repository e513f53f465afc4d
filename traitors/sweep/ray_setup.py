"""Starting or joining Ray: a fresh local instance unless a cluster is named, a time limit
on joining one, and no Ray process left behind by a driver that dies.

Without ``--address`` a sweep starts its own local instance on loopback (``address="local"``),
even when another instance runs or a crashed one left its address in Ray's temporary
directory: a local run never joins a cluster it did not ask for. With an address
(``HOST:PORT`` or ``auto``) its GCS port must answer within ``JOIN_SECONDS`` or the sweep
stops with one line saying so. A local instance is watched by a small reaper process that
ends the instance's processes if the driver dies without shutting Ray down (``kill -9``),
started before Ray so that a driver killed while Ray starts leaves nothing behind either.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

LOCAL_ENV = {
    "RAY_AUTH_MODE": "disabled",  # no token file or warning for a local instance
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # Ray's own servers listen on 127.0.0.1 only
    "RAY_USAGE_STATS_ENABLED": "0",  # no usage reports sent anywhere
}
JOIN_SECONDS = 15.0
"""How long joining a named cluster may take to answer."""


class RayJoinError(RuntimeError):
    """The named Ray cluster does not answer."""


def import_ray() -> Any:
    """Import Ray (it takes seconds: only where Ray is used)."""
    for key, value in LOCAL_ENV.items():
        os.environ.setdefault(key, value)
    import ray

    return ray


def ensure_ray(address: str | None = None, num_cpus: int | None = None) -> Any:
    """Join the cluster at ``address``, or start a fresh local instance on loopback (watched
    by a reaper); return the ray module."""
    ray = import_ray()
    if ray.is_initialized():
        return ray
    options: dict[str, Any] = {"include_dashboard": False, "logging_level": "ERROR"}
    options["log_to_driver"] = False
    if address:
        check_reachable(address)
        ray.init(address=address, **options)
        return ray
    local = {"_node_ip_address": "127.0.0.1"} | ({"num_cpus": num_cpus} if num_cpus else {})
    watch_session()  # first: Ray's processes start during ray.init
    ray.init(address="local", **options, **local)
    return ray


def check_reachable(address: str, timeout: float = JOIN_SECONDS) -> None:
    """Raise RayJoinError unless the cluster's GCS at ``address`` (or the one ``auto`` finds)
    accepts a connection within ``timeout`` seconds."""
    target = _resolve(address)
    host, _, port = target.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            return
    except (OSError, ValueError):
        pass
    hint = (
        " (a crashed instance may have left its address in Ray's temporary directory)"
        if address == "auto"
        else ""
    )
    raise RayJoinError(
        f"no Ray cluster answers at {target} within {timeout:.0f} s{hint}; leave out "
        "--address to start a local instance"
    )


def _resolve(address: str) -> str:
    """``HOST:PORT`` for an address; ``auto``: RAY_ADDRESS, or the running cluster's file."""
    if address != "auto":
        return address.removeprefix("ray://")
    if os.environ.get("RAY_ADDRESS"):
        return os.environ["RAY_ADDRESS"]
    current = (
        Path(os.environ.get("RAY_TMPDIR", tempfile.gettempdir())) / "ray" / "ray_current_cluster"
    )
    try:
        return current.read_text().strip()
    except OSError:
        raise RayJoinError("--address auto: no running Ray cluster found on this machine") from None


def watch_session() -> None:
    """Start the reaper of the local instance this driver is about to start (it outlives a
    killed driver and finds the instance by the driver's pid, which Ray names it after)."""
    subprocess.Popen(
        [sys.executable, "-m", "traitors.sweep.reaper", str(os.getpid()), repr(time.time())],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
