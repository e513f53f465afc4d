"""``<out>/import.jsonl``: the source files an import has stored, one line each, appended once
the file's episode is safely on disk (its directory renamed into place, or its shard linked).

Each line is ``{"source": ..., "stamp": ..., "episode": ...}``: the file's name in messages
(``archive:member`` for a member), its size and modification time (an edited file is read
again), and the id of the episode it holds. Re-running an import reads it and passes over
the files it names whose episode is still there, without opening them. A line cut short by
``kill -9`` can only be the last one and is ignored: that file is read again, finds its
episode stored and keeps it. Files refused as bad input are not recorded (they are read,
and refused, again).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO

JOURNAL = "import.jsonl"


@dataclass(frozen=True)
class Stored:
    """What the journal says of one source file."""

    stamp: str
    episode: str


def read_journal(out: Path) -> dict[str, Stored]:
    """Source -> what was stored of it (the last line about it; damaged lines skipped)."""
    stored: dict[str, Stored] = {}
    try:
        with open(out / JOURNAL, "rb") as f:
            for raw in f:
                try:
                    data = json.loads(raw)
                    stored[str(data["source"])] = Stored(str(data["stamp"]), str(data["episode"]))
                except (ValueError, KeyError, TypeError):
                    continue
    except FileNotFoundError:
        pass
    return stored


class ImportJournal:
    """Appends one line per stored source file, flushed as it goes."""

    def __init__(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = open(out / JOURNAL, "a", buffering=1, encoding="utf-8")  # noqa: SIM115
        if _cut_short(out / JOURNAL):
            self._file.write("\n")  # end the line a crash cut, so the next one is whole

    def write(self, source: str, stamp: str, episode: str) -> None:
        """Record that ``source`` is stored as ``episode``."""
        line = {"source": source, "stamp": stamp, "episode": episode}
        self._file.write(json.dumps(line, separators=(",", ":")) + "\n")

    def close(self) -> None:
        """Close the file."""
        self._file.close()


def _cut_short(path: Path) -> bool:
    """Whether the file's last line has no newline."""
    with open(path, "rb") as f:
        if f.seek(0, 2) == 0:
            return False
        f.seek(-1, 2)
        return f.read(1) != b"\n"
