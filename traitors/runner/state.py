"""``runs/<sweep>/sweep.json``: the sweep spec, the code version and each episode's status."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from traitors import __version__
from traitors.log import write_json_atomic
from traitors.runner.jobs import Job, JobResult

SWEEP_FILE = "sweep.json"


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
    """Per-episode status of a sweep, rewritten atomically after every change."""

    def __init__(self, out_dir: Path, sweep: dict[str, Any], jobs: list[Job]) -> None:
        self.path = out_dir / SWEEP_FILE
        self.data: dict[str, Any] = {
            "sweep": sweep,
            "code_version": code_version(),
            "episodes": {
                job.episode_id: {
                    "cell": job.cell,
                    "factors": job.factors,
                    "seed": job.seed,
                    "status": "pending",
                    "attempts": 0,
                }
                for job in jobs
            },
        }
        self.save()

    def started(self, job: Job) -> None:
        """Mark a job as running."""
        entry = self.data["episodes"][job.episode_id]
        entry["status"] = "running"
        entry["attempts"] += 1
        self.save()

    def finished(self, result: JobResult) -> None:
        """Record a job's result."""
        entry = self.data["episodes"][result.episode_id]
        entry["status"] = "complete" if result.status == "skipped" else result.status
        if result.error:
            entry["error"] = result.error.strip().splitlines()[-1]
        else:
            entry.pop("error", None)
        self.save()

    def interrupted(self) -> None:
        """Mark still-running jobs as interrupted (they are redone on the next run)."""
        for entry in self.data["episodes"].values():
            if entry["status"] == "running":
                entry["status"] = "interrupted"
        self.save()

    def save(self) -> None:
        """Write the file atomically."""
        write_json_atomic(self.path, self.data)
