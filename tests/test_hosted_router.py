"""``hosted_router``: the public way to a litellm Router over a sweep's inference servers,
offline (litellm reads its bundled cost map instead of fetching one)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from traitors.llm.endpoints import hosted_router

PROBE = """
import socket

attempts = []

def refuse(*args, **kwargs):
    attempts.append(args)
    raise OSError("offline")

socket.getaddrinfo = refuse
socket.socket.connect = refuse
from traitors.llm.endpoints import hosted_router

router = hosted_router({"qwen": ["http://127.0.0.1:9/v1", "http://127.0.0.1:10/v1"]})
print(len(attempts), len(router.registry().all()))
"""


@pytest.mark.slow  # a fresh interpreter imports litellm
def test_hosted_router_imports_litellm_without_reaching_the_network() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITELLM_")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.split() == ["0", "2"]  # no connection tried; a deployment per server


def test_hosted_router_has_a_deployment_per_server() -> None:
    router = hosted_router({"qwen": ["http://127.0.0.1:9/v1"]}, num_retries=0)
    (deployment,) = router.registry().all()
    assert deployment["model_name"] == "qwen"
    assert deployment["litellm_params"]["api_base"] == "http://127.0.0.1:9/v1"
    assert router.num_retries == 0
