"""Inference workers: server supervision, llama.cpp's server, the Ray actor and the Router."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from traitors.llm.endpoints import router_model_list
from traitors.sweep.ray_setup import ensure_ray
from traitors.sweep.spec import InferenceSpec
from traitors.sweep.workers import (
    LLAMA_CPP_HEALTH,
    InferencePool,
    ServerError,
    ServerProcess,
    llama_cpp_command,
    start_inference,
    vllm_command,
)

MODEL = "smollm2-135m"
ALIAS = "smol"
SMALL = ("--n_ctx", "2048")


def ask(endpoint: str) -> str:
    """One real chat completion from an OpenAI-compatible endpoint."""
    import litellm

    response = litellm.completion(
        model=f"openai/{ALIAS}",
        api_base=endpoint,
        api_key="none",
        messages=[{"role": "user", "content": "Say hello."}],
        max_tokens=8,
        temperature=0,
    )
    text = response.choices[0].message.content
    assert isinstance(text, str)
    return text


def wait_dead(server: ServerProcess, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while server.is_alive():
        assert time.monotonic() < deadline, "server process did not die"
        time.sleep(0.05)


# --- ServerProcess with llama.cpp's server ----------------------------------------------------


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    command = functools.partial(llama_cpp_command, MODEL, args=SMALL, served_name=ALIAS)
    log = tmp_path_factory.mktemp("llama") / "server.log"
    server = ServerProcess(command, health_path=LLAMA_CPP_HEALTH, log_path=log, startup_timeout=120)
    server.start()
    yield server
    server.stop()


@pytest.mark.slow
def test_llama_server_answers_and_is_restarted_after_sigkill(llama_server: ServerProcess) -> None:
    assert llama_server.endpoint == f"http://127.0.0.1:{llama_server.port}/v1"
    assert llama_server.is_alive() and llama_server.healthy()
    assert ask(llama_server.endpoint)
    assert llama_server.ensure_running() is False

    old_pid = llama_server.pid
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)
    wait_dead(llama_server)
    assert not llama_server.healthy()

    assert llama_server.ensure_running() is True
    assert llama_server.restarts == 1
    assert llama_server.pid != old_pid
    assert llama_server.endpoint == f"http://127.0.0.1:{llama_server.port}/v1"
    assert ask(llama_server.endpoint)


# --- ServerProcess with small commands --------------------------------------------------------


def test_server_that_exits_reports_code_and_log_tail(tmp_path: Path) -> None:
    script = "import sys; print('cannot load the model', flush=True); sys.exit(3)"
    server = ServerProcess(
        [sys.executable, "-c", script], log_path=tmp_path / "server.log", startup_timeout=30
    )
    with pytest.raises(ServerError, match="exited with code 3") as error:
        server.start()
    assert "cannot load the model" in str(error.value)
    assert not server.is_alive()


@pytest.mark.slow
def test_server_that_never_gets_healthy_times_out(tmp_path: Path) -> None:
    server = ServerProcess(
        [sys.executable, "-c", "import time; time.sleep(60)"],
        log_path=tmp_path / "server.log",
        startup_timeout=2,
        grace=1,
    )
    started = time.monotonic()
    with pytest.raises(ServerError, match="was not healthy after 2s"):
        server.start()
    assert time.monotonic() - started < 10
    assert not server.is_alive()


@pytest.mark.slow
def test_hung_server_is_killed_and_restarted(tmp_path: Path) -> None:
    def http_server(port: int) -> list[str]:
        return [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]

    server = ServerProcess(
        http_server,
        health_path="/",
        log_path=tmp_path / "server.log",
        startup_timeout=30,
        health_timeout=0.5,
        grace=0.5,
    )
    try:
        server.start()
        assert server.healthy()
        hung_pid = server.pid
        assert hung_pid is not None
        os.kill(hung_pid, signal.SIGSTOP)
        assert server.is_alive() and not server.healthy()
        assert server.ensure_running() is True
        assert server.restarts == 1 and server.pid != hung_pid and server.healthy()
    finally:
        server.stop()
    assert not server.is_alive()


# --- command builders and the Router's model list ---------------------------------------------


def test_llama_cpp_command_resolves_the_preset() -> None:
    from traitors.llm.local import resolve_model_path

    assert llama_cpp_command(MODEL, 8011, SMALL) == [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(resolve_model_path(MODEL)),
        "--host",
        "127.0.0.1",
        "--port",
        "8011",
        "--model_alias",
        MODEL,
        "--n_ctx",
        "2048",
    ]


def test_vllm_command() -> None:
    command = vllm_command(
        "Qwen/Qwen2.5-7B-Instruct", 8123, 2, "qwen7b", ["--max-model-len", "8192"]
    )
    assert command == [
        "vllm",
        "serve",
        "Qwen/Qwen2.5-7B-Instruct",
        "--host",
        "127.0.0.1",
        "--port",
        "8123",
        "--tensor-parallel-size",
        "2",
        "--served-model-name",
        "qwen7b",
        "--max-model-len",
        "8192",
    ]
    with pytest.raises(ValueError, match="at least one GPU"):
        vllm_command("Qwen/Qwen2.5-7B-Instruct", 8123, 0, "qwen7b")


def test_router_model_list() -> None:
    routes = {"a": ["http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1"], "b": ["http://h:3/v1"]}
    assert router_model_list(routes) == [
        {
            "model_name": name,
            "litellm_params": {"model": f"openai/{name}", "api_base": url, "api_key": "none"},
        }
        for name, url in [
            ("a", "http://127.0.0.1:1/v1"),
            ("a", "http://127.0.0.1:2/v1"),
            ("b", "http://h:3/v1"),
        ]
    ]


# --- the Ray actor -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray = ensure_ray(num_cpus=2)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def pool(local_ray: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InferencePool]:
    spec = InferenceSpec(kind="llama_cpp", model=MODEL, serve_as=ALIAS, args=SMALL)
    logs = tmp_path_factory.mktemp("inference")
    pool = start_inference([spec], log_dir=str(logs), startup_timeout=120)
    yield pool
    pool.stop()


@pytest.mark.slow
def test_inference_actor_reports_a_working_endpoint(
    pool: InferencePool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import ray

    assert list(tmp_path_factory.getbasetemp().glob(f"inference*/{ALIAS}-*.log"))

    (worker,) = pool.workers
    endpoint = ray.get(worker.actor.endpoint.remote())
    assert endpoint.startswith("http://127.0.0.1:") and endpoint.endswith("/v1")
    assert ray.get(worker.actor.check.remote()) == (endpoint, 0)
    assert ask(endpoint)


@pytest.mark.slow
def test_router_over_start_inference_routes_answers(pool: InferencePool) -> None:
    from litellm.router import Router

    routes = pool.routes()
    assert list(routes) == [ALIAS] and len(routes[ALIAS]) == 1
    assert pool.check() == routes
    router = Router(model_list=router_model_list(routes))
    response = asyncio.run(
        router.acompletion(model=ALIAS, messages=[{"role": "user", "content": "Hi!"}], max_tokens=8)
    )
    assert isinstance(response.choices[0].message.content, str)


@pytest.mark.slow
def test_workers_that_cannot_get_their_gpus_time_out(local_ray: None) -> None:
    spec = InferenceSpec(kind="vllm", model="Qwen/Qwen2.5-0.5B-Instruct", num_gpus=1)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="CPUs and GPUs"):
        start_inference([spec], startup_timeout=2)
    assert time.monotonic() - started < 15
