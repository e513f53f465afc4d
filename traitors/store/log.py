"""The episode directory: ``manifest.json``, ``events.jsonl``, ``calls.jsonl``.

Events and calls are appended line by line as they happen. The manifest is written when
the episode starts (status ``running``: it names the scenario, so a viewer can follow the
episode) and again last, atomically (temp file + rename), with the final status. Only a
manifest whose status is ``complete`` marks a complete episode, so a crash never leaves one
that looks complete.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from traitors.game.events import Event, parse_event
from traitors.store.manifest import Manifest
from traitors.util.files import new_temp

MANIFEST = "manifest.json"
EVENTS = "events.jsonl"
CALLS = "calls.jsonl"
ERROR = "error.txt"
ACTIVATIONS = "activations.npz"


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file and a rename (readers never see half)."""
    tmp = new_temp(path.parent, f".{path.name}.", ".tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to ``path`` atomically."""
    write_bytes_atomic(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())


class EpisodeWriter:
    """Appends an episode's events and calls; writes its manifest first and last.

    ``calls.jsonl`` is created with the first model call (an episode of scripted seats has
    none). Events are buffered and written out by ``flush`` at most every
    ``FLUSH_SECONDS``, so a watcher follows an LLM episode step by step while a scripted
    one costs few writes.
    """

    FLUSH_SECONDS = 0.2

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)
        try:
            self.dir.mkdir(parents=True)
        except FileExistsError:  # an earlier attempt: nothing of it may look current
            for name in (MANIFEST, ERROR, CALLS, ACTIVATIONS):
                (self.dir / name).unlink(missing_ok=True)
        self._events: IO[str] = open(self.dir / EVENTS, "w")  # noqa: SIM115
        self._calls: IO[str] | None = None
        self._flushed = time.monotonic()

    def start(self, manifest: Manifest) -> None:
        """Write the manifest of the episode just started (status ``running``); a reader
        that catches it half-written sees no manifest, as before the start."""
        (self.dir / MANIFEST).write_bytes(manifest.model_dump_json(indent=2).encode())

    def on_event(self, event: Event, state: object) -> None:
        """Append one event line (the writer observes the episode core)."""
        self._events.write(event.model_dump_json() + "\n")

    def flush(self) -> None:
        """Write out the buffered events if the last write is ``FLUSH_SECONDS`` old."""
        now = time.monotonic()
        if now - self._flushed >= self.FLUSH_SECONDS:
            self._events.flush()
            self._flushed = now

    def call(self, line: str) -> None:
        """Append one model-call record line (JSON, no newline)."""
        if self._calls is None:
            self._calls = open(self.dir / CALLS, "w", buffering=1)  # noqa: SIM115
        self._calls.write(line + "\n")

    def finish(self, manifest: Manifest) -> None:
        """Close the logs and write the final manifest atomically."""
        self.close()
        write_manifest(self.dir, manifest)

    def fail(self, traceback_text: str, manifest: Manifest | None = None) -> None:
        """Close the logs, leave the traceback and, if given, the ``failed`` manifest."""
        self.close()
        (self.dir / ERROR).write_text(traceback_text)
        if manifest is not None:
            write_manifest(self.dir, manifest)

    def close(self) -> None:
        """Flush and close the log files."""
        for f in (self._events, self._calls):
            if f is not None and not f.closed:
                f.close()


def write_manifest(directory: Path, manifest: Manifest) -> None:
    """Write ``manifest.json`` atomically."""
    write_bytes_atomic(directory / MANIFEST, manifest.model_dump_json(indent=2).encode() + b"\n")


class LogError(ValueError):
    """A damaged log file; the message names the file and the line (one line)."""


def problem(exc: Exception) -> str:
    """The first thing wrong, in one short line (pydantic lists every error at length)."""
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        return f"{where}: {err['msg']}" if where else str(err["msg"])
    return " ".join(str(exc).split())[:200]


def load_manifest(directory: str | Path) -> Manifest:
    """The directory's manifest: FileNotFoundError if it has none, LogError if damaged."""
    path = Path(directory) / MANIFEST
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file (not an episode directory)") from None
    try:
        return Manifest.model_validate_json(data)
    except ValueError as exc:
        raise LogError(f"{path}: damaged: {problem(exc)}") from None


def read_manifest(directory: str | Path) -> Manifest | None:
    """The directory's manifest, or None if it has none or it cannot be read."""
    try:
        return load_manifest(directory)
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class EpisodeLog:
    """A recorded episode as read back from its directory."""

    dir: Path
    manifest: Manifest
    events: list[Event]


def is_complete(directory: str | Path) -> bool:
    """True if the directory holds a complete episode (a game played as specified)."""
    manifest = read_manifest(directory)
    return manifest is not None and manifest.played


def iter_events(directory: str | Path) -> Iterator[Event]:
    """Parse ``events.jsonl`` line by line; LogError names the first damaged line."""
    path = Path(directory) / EVENTS
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                yield parse_line(line, path, number)


def parse_line(line: bytes, path: Path, number: int) -> Event:
    """One event line; LogError naming the file and line if it is not a valid event."""
    try:
        return parse_event(line)
    except ValueError as exc:
        cut = "" if line.endswith(b"\n") else " (the line is cut off)"
        raise LogError(f"{path}, line {number}: not a valid event{cut}: {problem(exc)}") from None


def read_episode(directory: str | Path) -> EpisodeLog:
    """Read a finished episode (complete, degraded or failed); FileNotFoundError if the
    directory holds none, LogError if a file of it is damaged."""
    directory = Path(directory)
    manifest = load_manifest(directory)
    if manifest.status == "running":
        raise FileNotFoundError(f"{directory}: not a finished episode (it is still running)")
    return EpisodeLog(directory, manifest, list(iter_events(directory)))
