"""Inference workers: Ray actors that each start, own and health-check one OpenAI-compatible
server (llama.cpp's server on CPU nodes, vLLM on GPU nodes) and report its endpoint.

`ServerProcess` is the supervision logic (no Ray): it runs the server as a subprocess logging to
a file, waits until it answers its health check, and restarts it when it dies or stops answering.
`InferenceWorker` wraps one `ServerProcess` in a Ray actor (made by `inference_actor_class()`, so
importing this module does not import ray). `start_inference()` starts the servers of a sweep's
`inference:` section and maps each `serve_as` name to its endpoints for a litellm Router.
"""

from __future__ import annotations

import functools
import http.client
import logging
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from traitors.sweep.spec import InferenceSpec

LOOPBACK = "127.0.0.1"
LLAMA_CPP_HEALTH = "/openapi.json"
"""llama-cpp-python's server has no /health, and its /v1/models waits for the model lock (so it
hangs while a completion runs); the OpenAPI schema answers at once and only once the model is
loaded, because the server loads the model before it starts listening."""
VLLM_HEALTH = "/health"
POLL_SECONDS = 0.2
STOP_SECONDS = 30.0
LOG_TAIL_LINES = 20
PORT_TRIES = 5
"""Ports a server whose port was chosen here tries when another process takes each first."""
_PDEATHSIG_LAUNCHER = (
    "import ctypes, os, signal, sys;"
    "ctypes.CDLL(None).prctl(1, signal.SIGTERM);"  # PR_SET_PDEATHSIG
    "os.getppid() == int(sys.argv[1]) or sys.exit(70);"
    "os.execvp(sys.argv[2], sys.argv[2:])"
)
"""Runs a command so that the kernel sends it SIGTERM when its parent dies (Linux only)."""

logger = logging.getLogger(__name__)

Command = Sequence[str] | Callable[[int], Sequence[str]]
"""A server command line, or a function building it for a port."""


class ServerError(RuntimeError):
    """A server that exited or did not become healthy in time."""


def free_port(host: str = LOOPBACK) -> int:
    """A port no one listens on now, chosen by the kernel (another process may take it before
    a server binds it: ``ServerProcess`` then chooses again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_taken(port: int, host: str = LOOPBACK) -> bool:
    """Whether a server could not listen on ``port`` now (another socket listens or is bound
    there; connections left in TIME_WAIT do not count, as servers reuse the address)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
        return False


class ServerProcess:
    """One server subprocess: started, health-checked, restarted and stopped.

    The server's stdout and stderr go to `log_path` (a new temporary file by default), appended
    across restarts. A restart reuses the port, so the endpoint stays the same. A port chosen
    here (no ``port`` given) that another process takes before the server's first start binds
    it is chosen again. On Linux the server gets SIGTERM when the thread that started it
    exits, so it never outlives its owner.
    """

    def __init__(
        self,
        command: Command,
        *,
        port: int | None = None,
        host: str = LOOPBACK,
        health_path: str = "/v1/models",
        log_path: Path | None = None,
        startup_timeout: float = 300.0,
        health_timeout: float = 5.0,
        grace: float = 10.0,
    ) -> None:
        self.command = command
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.port_chosen = port is None
        """Whether the port was chosen here (and may be chosen again before the first start)."""
        self.health_path = health_path
        self.log_path = log_path or _new_log_path()
        self.startup_timeout = startup_timeout
        self.health_timeout = health_timeout
        self.grace = grace
        self.restarts = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        """The OpenAI-compatible base URL."""
        return f"http://{self.host}:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        """The server's process id, if started."""
        return None if self._process is None else self._process.pid

    def argv(self) -> list[str]:
        """The command line for this server's port."""
        command = self.command(self.port) if callable(self.command) else self.command
        return list(command)

    def start(self) -> None:
        """Start the server and wait until it is healthy; ServerError if it is not."""
        if self._process is not None:
            raise ServerError(f"server on port {self.port} is already started")
        rechoose = self.port_chosen and self.restarts == 0
        for tries_left in reversed(range(PORT_TRIES if rechoose else 1)):
            if rechoose and port_taken(self.port, self.host):
                self.port = free_port(self.host)
            try:
                self._launch()
                return
            except ServerError:
                if not (tries_left and rechoose and port_taken(self.port, self.host)):
                    raise
                logger.warning("port %d was taken before the server bound it", self.port)
                self.port = free_port(self.host)

    def _launch(self) -> None:
        """Start the server process on this port and wait until it is healthy."""
        argv = self.argv()
        with self.log_path.open("ab") as log:
            log.write(f"$ {shlex.join(argv)}\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                _die_with_parent(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_server_env(),
            )
        self._wait_healthy(argv)

    def is_alive(self) -> bool:
        """Whether the server process is running."""
        return self._process is not None and self._process.poll() is None

    def healthy(self) -> bool:
        """Whether the server answers its health check with 200 within `health_timeout`."""
        url = f"http://{self.host}:{self.port}{self.health_path}"
        try:
            with _OPENER.open(url, timeout=self.health_timeout) as response:
                return int(response.status) == 200
        except (OSError, http.client.HTTPException):
            return False

    def ensure_running(self) -> bool:
        """Restart the server if it died or fails its health check; True if it was restarted."""
        if self.is_alive() and self.healthy():
            return False
        logger.warning("restarting the server on port %d (log: %s)", self.port, self.log_path)
        self.stop()
        self.restarts += 1
        self.start()
        return True

    def stop(self) -> None:
        """Terminate the server; kill it if it is still running after `grace` seconds."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(self.grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of the server's log."""
        with self.log_path.open("rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - 16_384))
            text = log.read().decode("utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def _wait_healthy(self, argv: list[str]) -> None:
        """Poll the health check until it passes, the process exits or the timeout ends."""
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while not self.healthy():
            code = self._process.poll()
            if code is not None:
                self._process = None
                raise self._error(argv, f"exited with code {code} during startup")
            if time.monotonic() > deadline:
                self.stop()
                raise self._error(argv, f"was not healthy after {self.startup_timeout:g}s")
            time.sleep(POLL_SECONDS)

    def _error(self, argv: list[str], what: str) -> ServerError:
        """A ServerError naming the command, the health check and the end of the log."""
        return ServerError(
            f"server `{shlex.join(argv)}` {what} (health check {self.health_path});"
            f" last lines of {self.log_path}:\n{self.log_tail()}"
        )


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""Health checks go straight to the server, whatever the proxy environment variables say."""


def _new_log_path(directory: Path | None = None, prefix: str = "traitors-server-") -> Path:
    """A new, empty log file in `directory` (created if needed) or the temporary directory."""
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".log", dir=directory)
    os.close(fd)
    return Path(name)


def _server_env() -> dict[str, str]:
    """This process's environment without HOST and PORT (llama.cpp's server prefers them to its
    --host and --port arguments)."""
    return {key: value for key, value in os.environ.items() if key not in ("HOST", "PORT")}


def _die_with_parent(argv: list[str]) -> list[str]:
    """On Linux, `argv` run through a launcher that ties its life to this process."""
    if not sys.platform.startswith("linux"):
        return argv
    return [sys.executable, "-c", _PDEATHSIG_LAUNCHER, str(os.getpid()), *argv]


# --- command builders ---------------------------------------------------------------------------


def llama_cpp_command(
    model: str,
    port: int,
    args: Sequence[str] = (),
    *,
    served_name: str | None = None,
    host: str = LOOPBACK,
) -> list[str]:
    """llama-cpp-python's server for an embedded preset (`smollm2-135m`) or a .gguf path.

    `served_name` (default: `model`) is the model name clients send; `args` go last, so they
    override earlier options (e.g. `--n_ctx 4096 --n_threads 4`).
    """
    from traitors.llm.local import resolve_model_path

    path = resolve_model_path(model)
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(path),
        "--host",
        host,
        "--port",
        str(port),
        "--model_alias",
        served_name or model,
        *args,
    ]


def vllm_command(
    model: str,
    port: int,
    num_gpus: int,
    served_name: str,
    args: Sequence[str] = (),
    *,
    host: str = LOOPBACK,
) -> list[str]:
    """`vllm serve` for a Hugging Face id or a local model directory, over `num_gpus` GPUs
    (tensor parallelism)."""
    if num_gpus < 1:
        raise ValueError(f"vLLM needs at least one GPU (num_gpus={num_gpus})")
    return [
        "vllm",
        "serve",
        model,
        "--host",
        host,
        "--port",
        str(port),
        "--tensor-parallel-size",
        str(num_gpus),
        "--served-model-name",
        served_name,
        *args,
    ]


def server_process(
    spec: InferenceSpec,
    *,
    host: str = LOOPBACK,
    log_dir: Path | None = None,
    startup_timeout: float = 300.0,
) -> ServerProcess:
    """The (not yet started) server for one replica of `spec`, logging to a new file in
    `log_dir` (default: the temporary directory)."""
    if spec.kind == "vllm":
        command: Command = functools.partial(_vllm_for_port, spec=spec, host=host)
        health = VLLM_HEALTH
    else:
        command = functools.partial(_llama_cpp_for_port, spec=spec, host=host)
        health = LLAMA_CPP_HEALTH
    return ServerProcess(
        command,
        host=host,
        health_path=health,
        log_path=_new_log_path(log_dir, f"{spec.serve_as}-"),
        startup_timeout=startup_timeout,
    )


def _vllm_for_port(port: int, *, spec: InferenceSpec, host: str) -> list[str]:
    return vllm_command(spec.model, port, spec.num_gpus, spec.serve_as, spec.args, host=host)


def _llama_cpp_for_port(port: int, *, spec: InferenceSpec, host: str) -> list[str]:
    args = ("--n_threads", str(spec.num_cpus), *spec.args)
    return llama_cpp_command(spec.model, port, args, served_name=spec.serve_as, host=host)


# --- the Ray actor ------------------------------------------------------------------------------


class InferenceWorker:
    """One server for one replica of an InferenceSpec, kept alive by a background thread.

    Used as a Ray actor (`inference_actor_class()`); plain Python otherwise. With
    `cluster=True` the server listens on this node's IP (as Ray sees it) instead of 127.0.0.1,
    so that episodes on other nodes can reach it. `log_dir` is a directory on the worker's node.
    """

    def __init__(
        self,
        spec: InferenceSpec,
        *,
        cluster: bool = False,
        log_dir: str | None = None,
        check_every: float = 5.0,
        startup_timeout: float = 300.0,
    ) -> None:
        self.server = server_process(
            spec,
            host=_node_ip() if cluster else LOOPBACK,
            log_dir=None if log_dir is None else Path(log_dir),
            startup_timeout=startup_timeout,
        )
        self.check_every = check_every
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="inference-watch", daemon=True)

    def start(self) -> str:
        """Start the server, wait until it is healthy and return its endpoint."""
        with self._lock:
            self.server.start()
        self._watcher.start()
        return self.server.endpoint

    def endpoint(self) -> str:
        """The server's OpenAI-compatible base URL."""
        return self.server.endpoint

    def check(self) -> tuple[str, int]:
        """Health-check the server, restarting it if needed: (endpoint, restarts so far)."""
        with self._lock:
            if not self._stopping.is_set():
                self.server.ensure_running()
            return self.server.endpoint, self.server.restarts

    def stop(self) -> None:
        """Stop watching and stop the server."""
        self._stopping.set()
        with self._lock:
            self.server.stop()

    def _watch(self) -> None:
        """Call check() every `check_every` seconds until stopped; log what fails, go on."""
        while not self._stopping.wait(self.check_every):
            try:
                self.check()
            except Exception:  # a failed restart is retried at the next check
                logger.exception("inference server restart failed")


def _node_ip() -> str:
    """This node's IP address in the Ray cluster."""
    import ray

    return str(ray.util.get_node_ip_address())  # type: ignore[no-untyped-call]


@functools.cache
def inference_actor_class() -> Any:
    """`InferenceWorker` as a Ray actor class (imports ray on first call)."""
    import ray

    return ray.remote(InferenceWorker)


# --- a pool of workers --------------------------------------------------------------------------


@dataclass
class _Worker:
    """A started actor and what it serves."""

    serve_as: str
    actor: Any
    """The Ray ActorHandle of an InferenceWorker."""
    endpoint: str = ""


@dataclass
class InferencePool:
    """The inference actors of a sweep and their endpoints."""

    workers: list[_Worker] = field(default_factory=list)

    def routes(self) -> dict[str, list[str]]:
        """`serve_as` name -> the endpoints serving it."""
        routes: dict[str, list[str]] = {}
        for worker in self.workers:
            routes.setdefault(worker.serve_as, []).append(worker.endpoint)
        return routes

    def check(self) -> dict[str, list[str]]:
        """Health-check every server now (restarting those that need it); the routes after."""
        import ray

        results = ray.get([worker.actor.check.remote() for worker in self.workers])
        for worker, (endpoint, _restarts) in zip(self.workers, results, strict=True):
            worker.endpoint = endpoint
        return self.routes()

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stop every server (waiting up to `timeout` seconds) and end the actors; a server
        still running when its actor is killed gets SIGTERM from the kernel (Linux)."""
        import ray

        pending = [worker.actor.stop.remote() for worker in self.workers]
        if pending:
            ray.wait(pending, num_returns=len(pending), timeout=timeout)
        for worker in self.workers:
            ray.kill(worker.actor)
        self.workers = []


def start_inference(
    specs: Sequence[InferenceSpec],
    *,
    cluster: bool | None = None,
    log_dir: str | None = None,
    startup_timeout: float = 600.0,
) -> InferencePool:
    """Start `replicas` actors per spec and wait until every server is healthy.

    Each actor reserves the spec's `num_cpus` (a llama.cpp server's thread count) and
    `num_gpus`; servers log to `log_dir` on their node (default: its temporary directory).
    `cluster` (default: whether the Ray cluster has more than one node) makes servers listen
    on their node's IP rather than 127.0.0.1, so that episodes on other nodes reach them.
    Raises ServerError (wrapped by Ray) if a server fails, TimeoutError if the actors cannot
    all start within `startup_timeout` (e.g. no node has the GPUs they reserve).
    """
    import ray

    actor_class = inference_actor_class()
    if cluster is None:
        cluster = _multi_node()
    pool = InferencePool()
    for spec in specs:
        options = actor_class.options(num_cpus=spec.num_cpus, num_gpus=spec.num_gpus)
        for _ in range(spec.replicas):
            actor = options.remote(
                spec,
                cluster=cluster,
                log_dir=log_dir,
                startup_timeout=startup_timeout,
            )
            pool.workers.append(_Worker(spec.serve_as, actor))
    try:
        endpoints = ray.get(
            [worker.actor.start.remote() for worker in pool.workers], timeout=startup_timeout
        )
    except ray.exceptions.GetTimeoutError:
        pool.stop(timeout=0)
        raise TimeoutError(
            f"inference workers not ready after {startup_timeout:g}s: does the cluster have"
            " the CPUs and GPUs they reserve?"
        ) from None
    except BaseException:
        pool.stop()
        raise
    for worker, endpoint in zip(pool.workers, endpoints, strict=True):
        worker.endpoint = endpoint
    return pool


def _multi_node() -> bool:
    """Whether the Ray cluster (started here if need be, as Ray would) has several live nodes."""
    from traitors.sweep.ray_setup import ensure_ray

    nodes = ensure_ray().nodes()
    return len([node for node in nodes if node["Alive"]]) > 1
