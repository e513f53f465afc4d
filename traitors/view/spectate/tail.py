"""Read an episode directory while it is being written, by any executor: files only.

Each read returns the lines completed since the last one; a partially written last line
waits for its newline. The episode is over once ``manifest.json`` leaves the status
``running`` (or ``error.txt`` exists): both are written after the last log line, so one
more read after that drains everything: a last line still without its newline then is read
as it is (named as cut off if it is not a whole event). A damaged ``manifest.json`` is
named too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from traitors.game.events import Event
from traitors.store.calls import CallRecord
from traitors.store.log import (
    CALLS,
    ERROR,
    EVENTS,
    MANIFEST,
    LogError,
    load_manifest,
    parse_line,
    problem,
)


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

    def rest(self) -> bytes:
        """The last line read without its newline, taken (empty if none)."""
        rest, self._partial = self._partial, b""
        return rest


class EpisodeTail:
    """New events and model-call records of one episode directory."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self._events = JsonlTail(directory / EVENTS)
        self._calls = JsonlTail(directory / CALLS)
        self._lines = 0
        self._call_lines = 0

    def finished(self) -> bool:
        """True once the episode has ended (complete, degraded, or failed); LogError names a
        damaged manifest."""
        if (self.dir / ERROR).is_file():
            return True
        if not (self.dir / MANIFEST).is_file():
            return False
        return load_manifest(self.dir).status != "running"

    def events(self, last: bool = False) -> list[Event]:
        """Events appended since the last call (LogError names a damaged line); ``last``: the
        episode has ended, so a line without its newline is cut off."""
        events = []
        for line in self._events.read():
            self._lines += 1
            if line.strip():
                events.append(parse_line(line + b"\n", self.dir / EVENTS, self._lines))
        if last and (rest := self._events.rest()).strip():
            self._lines += 1
            events.append(parse_line(rest, self.dir / EVENTS, self._lines))
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
