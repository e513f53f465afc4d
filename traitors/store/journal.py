"""``runs/<sweep>/journal.jsonl``: the sweep's episode statuses, appended one line a change.

A sweep writes a line when an episode starts and when it ends, so bookkeeping costs O(1) per
episode however large the sweep. Each line is one JSON object, ``{"id": ..., "status": ...}``
with ``attempts``, for a failure a one-line ``error``, for a complete episode its ``outcome``;
the last line about an episode wins. A line cut short by ``kill -9`` is ignored: it can only
be the last one, and the episode it was about is then redone (an episode counts as complete
only once its manifest says so). ``sweep.json`` is the readable summary, rewritten at the
start, on interrupt and at the end, when the journal is also compacted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

JOURNAL = "journal.jsonl"
SWEEP_FILE = "sweep.json"
"""The sweep summary written beside the journal (the journal is the source of truth)."""


@dataclass
class Entry:
    """What the journal says of one episode."""

    status: str
    """``pending``, ``running``, ``complete``, ``failed`` or ``interrupted``."""
    attempts: int = 0
    """Times it was started."""
    error: str | None = None
    """The last line of the last failure."""
    outcome: str | None = None
    """Who won a complete episode (``draw`` for none)."""

    def line(self, episode_id: str) -> str:
        """The journal line recording this entry."""
        data: dict[str, Any] = {"id": episode_id, "status": self.status, "attempts": self.attempts}
        if self.error:
            data["error"] = self.error
        if self.outcome:
            data["outcome"] = self.outcome
        return json.dumps(data, separators=(",", ":")) + "\n"


def read_journal(out_dir: Path) -> dict[str, Entry]:
    """Each episode's latest entry (a damaged or cut-off line is skipped)."""
    entries: dict[str, Entry] = {}
    try:
        with open(out_dir / JOURNAL, "rb") as f:
            for raw in f:
                try:
                    data = json.loads(raw)
                    entries[str(data["id"])] = Entry(
                        str(data["status"]),
                        int(data.get("attempts", 0)),
                        data.get("error"),
                        data.get("outcome"),
                    )
                except (ValueError, KeyError, TypeError):
                    continue
    except FileNotFoundError:
        pass
    return entries


class Journal:
    """Appends status lines, one write each, flushed as it goes."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / JOURNAL
        self._file: IO[str] = open(self.path, "a", buffering=1)  # noqa: SIM115

    def write(self, episode_id: str, entry: Entry) -> None:
        """Record one change."""
        self._file.write(entry.line(episode_id))

    def rewrite(self, entries: Iterable[tuple[str, Entry]]) -> None:
        """Replace the journal by one line per episode (its compaction)."""
        self._file.close()
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with open(tmp, "w") as f:
            f.writelines(entry.line(episode_id) for episode_id, entry in entries)
        tmp.replace(self.path)
        self._file = open(self.path, "a", buffering=1)  # noqa: SIM115

    def close(self) -> None:
        """Close the file."""
        self._file.close()
