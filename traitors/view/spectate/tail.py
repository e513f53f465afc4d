"""Read an episode directory while it is being written, by any executor: files only.

Each read returns the lines completed since the last one; a partially written last line
waits for its newline. The episode is over once ``manifest.json`` leaves the status
``running`` (or ``error.txt`` exists): both are written after the last log line, so one
more read after that drains everything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from traitors.game.events import Event
from traitors.store.calls import CallRecord
from traitors.store.log import CALLS, ERROR, EVENTS, LogError, parse_line, problem, read_manifest


class JsonlTail:
    """The complete lines appended to a file since the last read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = b""

    def read(self) -> list[bytes]:
        """New complete lines (the file may not exist yet)."""
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except FileNotFoundError:
            return []
        self._offset += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        return lines


class EpisodeTail:
    """New events and model-call records of one episode directory."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self._events = JsonlTail(directory / EVENTS)
        self._calls = JsonlTail(directory / CALLS)
        self._lines = 0
        self._call_lines = 0

    def finished(self) -> bool:
        """True once the episode has ended (complete, degraded, or failed)."""
        if (self.dir / ERROR).is_file():
            return True
        manifest = read_manifest(self.dir)
        return manifest is not None and manifest.status != "running"

    def events(self) -> list[Event]:
        """Events appended since the last call (LogError names a damaged line)."""
        events = []
        for line in self._events.read():
            self._lines += 1
            if line.strip():
                events.append(parse_line(line + b"\n", self.dir / EVENTS, self._lines))
        return events

    def calls(self) -> list[dict[str, Any]]:
        """Model-call records appended since the last call."""
        records = []
        for line in self._calls.read():
            self._call_lines += 1
            if not line.strip():
                continue
            try:
                record = CallRecord.model_validate_json(line)
            except ValueError as exc:
                where = f"{self.dir / CALLS}, line {self._call_lines}"
                raise LogError(f"{where}: not a call record: {problem(exc)}") from None
            records.append(record.model_dump())
        return records
