"""Ends a local Ray instance's processes once the driver that started it is gone.

``python -m traitors.sweep.reaper DRIVER_PID SESSION``: waits for the driver to exit; if
processes of the Ray session ``SESSION`` are still running a few seconds later, as after
``kill -9`` of the driver, it terminates them, then kills the stubborn. A process belongs
to the session when its command line names the session's directory or it holds a file open
in it (Ray's agents rename themselves, ``ray::DashboardAgent``, but keep their logs open
there). Only processes of that one session are touched.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

POLL_SECONDS = 1.0
GRACE_SECONDS = 3.0
"""Time Ray's own shutdown gets after the driver exits."""


def alive(pid: int) -> bool:
    """Whether a process with ``pid`` runs (a zombie, dead but not yet waited for, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def session_processes(session: str) -> Iterator[int]:
    """Pids of the processes of ``session`` (this one excluded)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid() and _of(entry, session):
            yield int(entry.name)


def _of(process: Path, session: str) -> bool:
    """Whether the process names the session on its command line or has a file open in it."""
    try:
        if session.encode() in (process / "cmdline").read_bytes():
            return True
        return any(session in os.readlink(fd) for fd in (process / "fd").iterdir())
    except OSError:
        return False


def reap(session: str) -> int:
    """Terminate, then kill, the session's processes; how many there were."""
    pids = list(session_processes(session))
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline and any(alive(pid) for pid in pids):
            time.sleep(0.1)
    return len(pids)


def main(argv: list[str]) -> int:
    """Wait for the driver, then reap its session."""
    driver, session = int(argv[1]), argv[2]
    while alive(driver):
        time.sleep(POLL_SECONDS)
    time.sleep(GRACE_SECONDS)
    reap(session)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
