"""Joining Ray only when asked, within a time limit, and leaving no process behind."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_sweep import write_sweep

from traitors.cli import main
from traitors.sweep.ray_setup import RayJoinError, check_reachable
from traitors.sweep.reaper import session_processes

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port held bound and not listening while the test runs: a connection to it
    is refused, and no other process can start to listen on it meanwhile."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def test_a_cluster_that_does_not_answer_is_refused_in_one_line(
    tmp_path, capsys, silent_port: int
) -> None:
    port = silent_port
    started = time.monotonic()
    with pytest.raises(RayJoinError, match=f"127.0.0.1:{port}"):
        check_reachable(f"127.0.0.1:{port}", timeout=2)
    assert time.monotonic() - started < 5
    path = write_sweep(tmp_path, "set: {agents.default.policy: heuristic}\nepisodes: 1\n")
    args = ["sweep", str(path), "--executor", "ray", "--address", f"127.0.0.1:{port}"]
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert "no Ray cluster answers" in err and "\n" not in err


DRIVER = """
import sys, time
from pathlib import Path
from traitors.sweep.ray_setup import ensure_ray
ray = ensure_ray(num_cpus=1)
print(Path(ray._private.worker._global_node.get_session_dir_path()).name, flush=True)
time.sleep(600)
"""


@pytest.mark.slow
def test_a_killed_driver_leaves_no_ray_process_behind(silent_port: int) -> None:
    tmp_path = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # Ray's socket paths are short
    env = {**os.environ, "RAY_TMPDIR": str(tmp_path)}
    # A crashed instance's address left behind must not be joined (nor hang the start).
    (tmp_path / "ray").mkdir()
    (tmp_path / "ray" / "ray_current_cluster").write_text(f"127.0.0.1:{silent_port}")
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    assert driver.stdout is not None
    session = driver.stdout.readline().strip()
    assert session.startswith("session_"), session
    assert len(list(session_processes(session))) >= 3  # raylet, GCS, agents, reaper...
    driver.kill()
    driver.wait()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and list(session_processes(session)):
        time.sleep(0.5)
    assert not list(session_processes(session))
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.mark.slow
def test_a_driver_killed_while_ray_starts_leaves_no_ray_process_behind() -> None:
    """``kill -9`` of the driver as soon as Ray's agents start, before ``ray.init`` returns
    (they outlive the raylet that started them): the reaper, started before Ray, ends them."""
    import re

    from traitors.sweep.reaper import reap

    tmp_path = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # Ray's socket paths are short
    env = {**os.environ, "RAY_TMPDIR": str(tmp_path)}
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVER], stdout=subprocess.DEVNULL, env=env, cwd=ROOT
    )
    named = re.compile(rf"session_[\d_-]+_{driver.pid}(?!\d)".encode())
    sessions: set[str] = set()
    deadline = time.monotonic() + 60
    try:
        while not sessions and time.monotonic() < deadline and driver.poll() is None:
            for entry in Path("/proc").iterdir():
                try:
                    command = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                agent = command.startswith(sys.executable.encode()) and b"agent" in command
                if agent and (found := named.search(command)):
                    sessions.add(found.group().decode())
            time.sleep(0.02)
        driver.kill()  # Ray is starting: ray.init has not returned
        driver.wait()
        assert sessions, "no Ray agent appeared"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(session_processes(s) for s in sessions):
            time.sleep(0.5)
        left = {s: list(session_processes(s)) for s in sessions}
        assert not any(left.values()), left
    finally:
        for session in sessions:  # never leave this test's processes behind, pass or fail
            reap(session)
        shutil.rmtree(tmp_path, ignore_errors=True)
