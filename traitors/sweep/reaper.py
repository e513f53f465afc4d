"""Ends a local Ray instance's processes once the driver that started it is gone.

``python -m traitors.sweep.reaper DRIVER_PID SINCE``: started by the driver before it
starts Ray (``SINCE``: the driver's clock then, seconds since the epoch), so a driver killed
while Ray starts is watched too. It waits for the driver to exit; if processes of the
driver's Ray sessions are still running a few seconds later, as after ``kill -9`` of the
driver, it terminates them, then kills the stubborn. Ray names a session it starts after
the date and the starting process's pid (``session_<date>_<pid>``): the driver's sessions
are those named after its pid and dated between ``SINCE`` and its exit. A process belongs
to a session when its command line names the session's directory or it holds a file open
in it (Ray's agents rename themselves, ``ray::DashboardAgent``, but keep their logs open
there). Only processes of the driver's sessions are touched.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

POLL_SECONDS = 1.0
GRACE_SECONDS = 3.0
"""Time Ray's own shutdown gets after the driver exits."""
SESSION = re.compile(rb"session_(\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_\d{6})_(\d+)")
"""A Ray session's name: ``session_<date>_<pid of the process that started it>``."""
CLOCK_SLACK = 1.0
"""Seconds the session dates may lie outside the driver's lifetime (clock rounding)."""


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


def driver_sessions(driver: int, since: float, until: float) -> set[str]:
    """Names of the Ray sessions started by process ``driver`` between ``since`` and
    ``until`` (seconds since the epoch) that running processes name on their command line
    or in the files they hold open."""
    found: set[str] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        for text in _names(entry):
            for match in SESSION.finditer(text):
                if int(match.group(2)) != driver:
                    continue
                date = _timestamp(match.group(1).decode())
                if date is not None and since - CLOCK_SLACK <= date <= until + CLOCK_SLACK:
                    found.add(match.group().decode())
    return found


def _timestamp(date: str) -> float | None:
    """Seconds since the epoch of a session's date (local time, as Ray writes it)."""
    try:
        return datetime.datetime.strptime(date, "%Y-%m-%d_%H-%M-%S_%f").timestamp()
    except ValueError:
        return None


def _names(process: Path) -> Iterator[bytes]:
    """The process's command line and the paths of the files it holds open."""
    try:
        yield (process / "cmdline").read_bytes()
        for fd in (process / "fd").iterdir():
            with contextlib.suppress(OSError):
                yield os.readlink(fd).encode()
    except OSError:
        return


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
    """Wait for the driver, then reap its sessions."""
    driver, since = int(argv[1]), float(argv[2])
    while alive(driver):
        time.sleep(POLL_SECONDS)
    until = time.time()
    time.sleep(GRACE_SECONDS)
    for session in sorted(driver_sessions(driver, since, until)):
        reap(session)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
