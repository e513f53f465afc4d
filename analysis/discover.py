"""Find the episode directories under a path: complete ones, incomplete ones, sweep files.

An episode directory holds ``manifest.json``, ``events.jsonl`` or ``error.txt``; it is
complete when its manifest says ``status: complete``. Hidden directories (such as the
``.compact`` cache) are never searched.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.errors import AnalysisError
from traitors.log import ERROR, EVENTS, MANIFEST

SWEEP_FILE = "sweep.json"
"""Written by ``traitors sweep`` next to its episodes (the runner's format, read here as data)."""
EPISODE_MARKERS = (MANIFEST, EVENTS, ERROR)


@dataclass(frozen=True)
class Listing:
    """The episode directories and sweep files under an analysis root, from the file system
    alone (no file is parsed): enough to tell whether the Parquet cache is up to date."""

    root: Path
    """The directory given by the user."""
    episode_dirs: tuple[Path, ...]
    """Every episode directory, sorted."""
    sweeps: tuple[Path, ...]
    """``sweep.json`` files found at or below the root."""
    fingerprint: tuple[tuple[str, int, int], ...]
    """(relative path, mtime_ns, size) of every manifest and sweep file, and (directory, 0, 0)
    for an episode directory without a manifest: changes on any write."""


@dataclass(frozen=True)
class Discovery:
    """The episodes of a listing, after reading their manifests."""

    listing: Listing
    complete: tuple[tuple[Path, dict[str, Any]], ...]
    """Complete episode directories, sorted, with their manifests."""
    incomplete: int
    """Episode directories without a complete manifest (skipped)."""
    duplicates: int
    """Complete episodes whose ``episode_id`` was already found in another directory (skipped)."""


def list_episodes(path: str | Path) -> Listing:
    """Walk ``path`` (an episode, run, sweep or a directory of runs)."""
    root = Path(path)
    if not root.is_dir():
        raise AnalysisError(f"{root}: no such directory")
    episode_dirs: list[str] = []
    sweeps: list[str] = []
    stamps: list[tuple[str, int, int]] = []

    def visit(directory: str, relative: str) -> None:
        # An episode directory costs one stat (of its manifest); the others are listed: a
        # run or sweep directory, or an episode without a manifest yet.
        manifest = _stat(directory, MANIFEST)
        if manifest is not None:
            episode_dirs.append(directory)
            stamps.append((os.path.join(relative, MANIFEST), *manifest))
            return
        sweep = _stat(directory, SWEEP_FILE)
        if sweep is not None:
            sweeps.append(os.path.join(directory, SWEEP_FILE))
            stamps.append((os.path.join(relative, SWEEP_FILE), *sweep))
        with os.scandir(directory) as listing:
            entries = list(listing)
        if any(e.name in EPISODE_MARKERS and not e.is_dir() for e in entries):
            episode_dirs.append(directory)
            stamps.append((relative or ".", 0, 0))
            return
        subdirs = (e.name for e in entries if e.is_dir(follow_symlinks=False))
        for name in sorted(n for n in subdirs if not n.startswith(".")):
            visit(os.path.join(directory, name), os.path.join(relative, name))

    visit(str(root), "")  # depth first, names sorted: the directories come out sorted
    return Listing(root, tuple(map(Path, episode_dirs)), tuple(map(Path, sweeps)), tuple(stamps))


def discover(listing: Listing) -> Discovery:
    """Read the manifests of a listing: complete episodes (each episode_id once), the rest
    counted."""
    unique: dict[str, tuple[Path, dict[str, Any]]] = {}
    incomplete = duplicates = 0
    for directory in listing.episode_dirs:
        manifest = _complete_manifest(directory / MANIFEST)
        if manifest is None:
            incomplete += 1
        elif manifest["episode_id"] in unique:
            duplicates += 1
        else:
            unique[manifest["episode_id"]] = (directory, manifest)
    return Discovery(listing, tuple(unique.values()), incomplete, duplicates)


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


def _stat(directory: str, name: str) -> tuple[int, int] | None:
    """(mtime_ns, size) of a file in ``directory``, or None when there is no such file."""
    try:
        found = os.stat(os.path.join(directory, name))
    except OSError:
        return None
    return None if stat.S_ISDIR(found.st_mode) else (found.st_mtime_ns, found.st_size)
