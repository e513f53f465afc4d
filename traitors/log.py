"""The episode directory: ``manifest.json``, ``events.jsonl``, ``calls.jsonl``.

Events and calls are appended line by line as they happen. The manifest is written last,
atomically (temp file + rename), so a directory with a manifest whose status is
``complete`` is a complete episode, and a crash never leaves one that looks complete.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from traitors.events import Event, parse_event

MANIFEST = "manifest.json"
EVENTS = "events.jsonl"
CALLS = "calls.jsonl"
ERROR = "error.txt"


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file and a rename (readers never see half)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to ``path`` atomically."""
    write_bytes_atomic(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())


class EpisodeWriter:
    """Appends an episode's events and calls; writes its manifest last."""

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / MANIFEST).unlink(missing_ok=True)
        (self.dir / ERROR).unlink(missing_ok=True)
        self._events: IO[str] = open(self.dir / EVENTS, "w", buffering=1)  # noqa: SIM115
        self._calls: IO[str] = open(self.dir / CALLS, "w", buffering=1)  # noqa: SIM115

    def event(self, event: Event) -> None:
        """Append one event line."""
        self._events.write(event.model_dump_json() + "\n")

    def call(self, record: dict[str, Any]) -> None:
        """Append one model-call record line."""
        self._calls.write(json.dumps(record, sort_keys=True) + "\n")

    def finish(self, manifest: dict[str, Any]) -> None:
        """Close the logs and write the manifest atomically."""
        self.close()
        write_json_atomic(self.dir / MANIFEST, manifest)

    def fail(self, traceback_text: str) -> None:
        """Close the logs and leave the traceback; no manifest is written."""
        self.close()
        (self.dir / ERROR).write_text(traceback_text)

    def close(self) -> None:
        """Flush and close the log files."""
        for f in (self._events, self._calls):
            if not f.closed:
                f.close()


@dataclass(frozen=True)
class EpisodeLog:
    """A recorded episode as read back from its directory."""

    dir: Path
    manifest: dict[str, Any]
    events: list[Event]


def is_complete(directory: str | Path) -> bool:
    """True if the directory holds a finished episode."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        return False
    try:
        return bool(json.loads(path.read_text()).get("status") == "complete")
    except (OSError, ValueError):
        return False


def iter_events(directory: str | Path) -> Iterator[Event]:
    """Parse ``events.jsonl`` line by line."""
    with open(Path(directory) / EVENTS, "rb") as f:
        for line in f:
            if line.strip():
                yield parse_event(line)


def read_episode(directory: str | Path) -> EpisodeLog:
    """Read a complete episode; raise FileNotFoundError if it is not one."""
    directory = Path(directory)
    if not (directory / MANIFEST).is_file():
        raise FileNotFoundError(f"{directory}: no {MANIFEST} (not an episode, or incomplete)")
    manifest = json.loads((directory / MANIFEST).read_text())
    return EpisodeLog(directory, manifest, list(iter_events(directory)))
