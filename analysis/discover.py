"""Find the episode directories under a path: complete ones, incomplete ones, sweep files.

An episode directory holds ``manifest.json``, ``events.jsonl`` or ``error.txt``; it is
complete when its manifest says ``status: complete``. Hidden directories (such as the
``.compact`` cache) are never searched.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.errors import AnalysisError
from traitors.log import ERROR, EVENTS, MANIFEST

SWEEP_FILE = "sweep.json"
"""Written by ``traitors sweep`` next to its episodes (the runner's format, read here as data)."""
EPISODE_MARKERS = (MANIFEST, EVENTS, ERROR)


@dataclass(frozen=True)
class Discovery:
    """What lies under an analysis root."""

    root: Path
    """The directory given by the user."""
    complete: tuple[tuple[Path, dict[str, Any]], ...]
    """Complete episode directories, sorted, with their manifests."""
    incomplete: int
    """Episode directories without a complete manifest (skipped)."""
    duplicates: int
    """Complete episodes whose ``episode_id`` was already found in another directory (skipped)."""
    sweeps: tuple[Path, ...]
    """``sweep.json`` files found at or below the root."""
    fingerprint: tuple[tuple[str, int, int], ...]
    """(relative path, mtime_ns, size) of every manifest and sweep file: changes on any write."""


def discover(path: str | Path) -> Discovery:
    """Walk ``path`` (an episode, run, sweep or a directory of runs)."""
    root = Path(path)
    if not root.is_dir():
        raise AnalysisError(f"{root}: no such directory")
    complete: list[tuple[Path, dict[str, Any]]] = []
    incomplete = 0
    sweeps: list[Path] = []
    stamps: list[tuple[str, int, int]] = []
    for walked, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        here = Path(walked)
        if SWEEP_FILE in files:
            sweeps.append(here / SWEEP_FILE)
            stamps.append(_stamp(root, here / SWEEP_FILE))
        if not any(marker in files for marker in EPISODE_MARKERS):
            continue
        subdirs[:] = []
        manifest = _complete_manifest(here / MANIFEST) if MANIFEST in files else None
        if manifest is None:
            incomplete += 1
        else:
            complete.append((here, manifest))
            stamps.append(_stamp(root, here / MANIFEST))
    unique: dict[str, tuple[Path, dict[str, Any]]] = {}
    for directory, manifest in sorted(complete, key=lambda c: c[0]):
        unique.setdefault(manifest["episode_id"], (directory, manifest))
    episodes = tuple(unique.values())
    duplicates = len(complete) - len(episodes)
    return Discovery(root, episodes, incomplete, duplicates, tuple(sweeps), tuple(stamps))


def read_json(path: Path) -> Any:
    """Parse a JSON file."""
    return json.loads(path.read_text())


def _complete_manifest(path: Path) -> dict[str, Any] | None:
    try:
        manifest = read_json(path)
    except (OSError, ValueError):
        return None
    if isinstance(manifest, dict) and manifest.get("status") == "complete":
        return manifest
    return None


def _stamp(root: Path, path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return (str(path.relative_to(root)), stat.st_mtime_ns, stat.st_size)
