"""A server's port chosen by the kernel and taken by another process before the server binds
it: ``ServerProcess`` chooses again instead of failing (or answering for someone else)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from traitors.sweep.workers import ServerError, ServerProcess, port_taken


def http_server(port: int) -> list[str]:
    return [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]


@pytest.fixture
def squatters() -> Iterator[list[socket.socket]]:
    """Sockets listening on ports a server meant to use (closed after the test)."""
    held: list[socket.socket] = []
    yield held
    for sock in held:
        sock.close()


def squat(held: list[socket.socket], port: int) -> int:
    """Another process listens on ``port`` (0: a port of the kernel's choice) and answers no
    health check; the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    sock.listen()
    held.append(sock)
    return int(sock.getsockname()[1])


def serve(tmp_path: Path, command) -> ServerProcess:
    return ServerProcess(
        command, health_path="/", log_path=tmp_path / "server.log", startup_timeout=30, grace=1
    )


def test_a_port_taken_before_the_start_is_chosen_again(tmp_path: Path, squatters) -> None:
    server = serve(tmp_path, http_server)
    taken = server.port
    squat(squatters, taken)
    assert port_taken(taken)
    try:
        server.start()
        assert server.port != taken and server.healthy()
        assert server.argv() == http_server(server.port)
    finally:
        server.stop()


def test_a_port_taken_while_the_server_starts_is_chosen_again(tmp_path: Path, squatters) -> None:
    ports: list[int] = []

    def racing(port: int) -> list[str]:
        if not ports:
            squat(squatters, port)  # taken between the choice and the server's bind
        ports.append(port)
        return http_server(port)

    server = serve(tmp_path, racing)
    try:
        server.start()
        assert len(ports) == 2 and server.port == ports[1] != ports[0] and server.healthy()
        assert "Address already in use" in server.log_path.read_text()
    finally:
        server.stop()


def test_a_port_given_is_kept(tmp_path: Path, squatters) -> None:
    port = squat(squatters, 0)
    server = ServerProcess(
        http_server, port=port, health_path="/", log_path=tmp_path / "log", startup_timeout=30
    )
    with pytest.raises(ServerError, match="exited with code"):
        server.start()
    assert server.port == port
