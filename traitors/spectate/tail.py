"""Read an episode directory while it is being written, by any executor: files only.

Each read returns the lines completed since the last one; a partially written last line
waits for its newline. The episode is over once ``manifest.json`` (or ``error.txt``) exists:
both are written after the last log line, so one more read after that drains everything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from traitors.events import Event, parse_event
from traitors.log import CALLS, ERROR, EVENTS, MANIFEST


class JsonlTail:
    """The complete lines appended to a file since the last read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = b""

    def read(self) -> list[bytes]:
        """New complete, non-empty lines (the file may not exist yet)."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self._offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        return [line for line in lines if line.strip()]


class EpisodeTail:
    """New events and model-call records of one episode directory."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self._events = JsonlTail(directory / EVENTS)
        self._calls = JsonlTail(directory / CALLS)

    def finished(self) -> bool:
        """True once the episode has ended (complete, or failed with a traceback)."""
        return (self.dir / MANIFEST).is_file() or (self.dir / ERROR).is_file()

    def events(self) -> list[Event]:
        """Events appended since the last call."""
        return [parse_event(line) for line in self._events.read()]

    def calls(self) -> list[dict[str, Any]]:
        """Model-call records appended since the last call."""
        return [json.loads(line) for line in self._calls.read()]
