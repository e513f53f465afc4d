"""A sweep's bookkeeping: each episode's status, at O(1) cost per episode.

Changes go to the append-only ``journal.jsonl`` (one line each); ``runs/<sweep>/sweep.json``
is the readable summary (the sweep spec, the code version, counts, and each episode's cell,
factors, seed and status, one episode a line), written when the sweep starts, when it is
interrupted, when it ends, and at most every ``SUMMARY_SECONDS`` in between. On start the
journal of an earlier run is read (what it says about each episode) and compacted; the sweep
then brings it to agree with the manifests on disk (:meth:`SweepState.agree`).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from traitors import __version__
from traitors.store.journal import SWEEP_FILE, Entry, Journal, read_journal
from traitors.store.log import write_bytes_atomic
from traitors.sweep.jobs import Job, JobResult

SUMMARY_SECONDS = 60.0
"""Longest time ``sweep.json`` lags the journal while a sweep runs."""


def code_version() -> str:
    """The package version, plus the git commit (and ``-dirty``) when run from a checkout."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+{commit}" if commit else __version__


class SweepState:
    """Each episode's status: a journal line per change, ``sweep.json`` now and then."""

    def __init__(self, out_dir: Path, sweep: dict[str, Any], jobs: Iterable[Job]) -> None:
        self.path = out_dir / SWEEP_FILE
        self.sweep = sweep
        self.version = code_version()
        self.jobs = {job.episode_id: job for job in jobs}
        before = read_journal(out_dir)
        self.entries = {eid: before.get(eid, Entry("pending")) for eid in self.jobs}
        for entry in self.entries.values():
            if entry.status == "running":  # its run died: it is redone
                entry.status = "interrupted"
        self.journal = Journal(out_dir)
        self.journal.rewrite(self.entries.items())
        self._saved = 0.0
        self.save()

    def said_complete(self, episode_id: str) -> bool:
        """Whether the journal of an earlier run recorded the episode as complete."""
        return self.entries[episode_id].status == "complete"

    def started(self, job: Job) -> None:
        """Mark a job as running."""
        entry = self.entries[job.episode_id]
        entry.status, entry.error = "running", None
        entry.attempts += 1
        self.journal.write(job.episode_id, entry)

    def finished(self, result: JobResult) -> None:
        """Record a job's result."""
        entry = self.entries[result.episode_id]
        entry.status = "complete" if result.status == "skipped" else result.status
        entry.error = result.error.strip().splitlines()[-1] if result.error else None
        entry.outcome = result.outcome or entry.outcome
        self.journal.write(result.episode_id, entry)
        if time.monotonic() - self._saved >= SUMMARY_SECONDS:
            self.save()

    def agree(self, result: JobResult) -> bool:
        """Bring the journal to agree with what an episode's manifest on disk says of it
        (``result``: complete, or failed) when it says otherwise: the episode finished while
        no journal line could record it (its driver was killed while Ray actors ran on).
        True if a line was written."""
        if self.entries[result.episode_id].status == result.status:
            return False
        self.finished(result)
        return True

    def interrupted(self) -> None:
        """Mark still-running jobs as interrupted (they are redone on the next run)."""
        for episode_id, entry in self.entries.items():
            if entry.status == "running":
                entry.status = "interrupted"
                self.journal.write(episode_id, entry)
        self.save()

    def close(self) -> None:
        """Write the final summary and close the journal."""
        self.save()
        self.journal.close()

    def counts(self) -> Counter[str]:
        """Episodes per status."""
        return Counter(entry.status for entry in self.entries.values())

    def save(self) -> None:
        """Write ``sweep.json`` atomically: a header, then one line per episode."""
        header = {
            "sweep": self.sweep,
            "code_version": self.version,
            "counts": dict(sorted(self.counts().items())),
        }
        lines = []
        for episode_id, entry in self.entries.items():
            job = self.jobs[episode_id]
            data: dict[str, Any] = {
                "cell": job.cell,
                "factors": job.factors,
                "seed": job.seed,
                "status": entry.status,
                "attempts": entry.attempts,
            }
            if entry.error:
                data["error"] = entry.error
            lines.append(f"  {json.dumps(episode_id)}: {json.dumps(data, sort_keys=True)}")
        head = json.dumps(header, sort_keys=True)[:-1]
        text = head + ', "episodes": {\n' + ",\n".join(lines) + "\n}}\n"
        write_bytes_atomic(self.path, text.encode())
        self._saved = time.monotonic()
