"""A judge run's ``calls.jsonl``: read back to resume or replay, appended while live, and
each statement's last call turned into its score or the reason it has none."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from traitors.store.calls import CallLog, CallRecord
from traitors.store.log import LogError, problem
from traitors.sweep.judge_prompt import probability

NOT_A_PROBABILITY = "not_a_probability"
NOT_STARTED = "not_started"


@dataclass(frozen=True)
class Outcome:
    """What a statement's last call gave."""

    score: float | None
    reason: str | None = None
    """Why there is no score: ``call:<error kind>``, ``not_a_probability``, ``not_started``."""
    message: str | None = None
    """The same in words, for the scores file's ``error`` column."""


def outcome(record: CallRecord | None) -> Outcome:
    """The score of a statement whose last call is ``record`` (None: never called)."""
    if record is None:
        return Outcome(None, NOT_STARTED, "not asked (the budget or an interrupt stopped the run)")
    if record.text is None:
        kind = record.error_kind or "other"
        return Outcome(None, f"call:{kind}", f"call failed ({kind}): {record.error}")
    score = probability(record.text)
    if score is None:
        return Outcome(None, NOT_A_PROBABILITY, f"not a probability: {record.text[:80]!r}")
    return Outcome(score)


def read_records(path: Path) -> list[CallRecord]:
    """The records of ``path`` in order (none when it does not exist). A last line with no
    newline, cut off by a crash, is ignored (a live run drops it before appending); any other
    damaged line is a LogError naming the file and line."""
    if not path.is_file():
        return []
    lines = path.read_bytes().split(b"\n")[:-1]  # the part after the last newline: cut off
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(CallRecord.model_validate_json(line))
        except ValueError as exc:
            raise LogError(f"{path}, line {number}: not a call record: {problem(exc)}") from None
    return records


class CallsFile:
    """Appends call records to a judge run's ``calls.jsonl`` (a line cut off by a crash is
    dropped first, so the next record starts its own line)."""

    def __init__(self, path: Path) -> None:
        if path.is_file():
            data = path.read_bytes()
            if data and not data.endswith(b"\n"):
                path.write_bytes(data[: data.rfind(b"\n") + 1])
        self._file: IO[str] = open(path, "a", buffering=1)  # noqa: SIM115

    def call(self, line: str) -> None:
        """Append one record line (JSON, no newline)."""
        self._file.write(line + "\n")

    def close(self) -> None:
        """Close the file."""
        self._file.close()


@dataclass
class KeptCallLog(CallLog):
    """A call log that also keeps the records it counted, in order."""

    kept: list[CallRecord] = field(default_factory=list)

    def add(self, record: CallRecord) -> None:
        super().add(record)
        self.kept.append(record)
