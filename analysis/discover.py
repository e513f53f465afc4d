"""Find the episode directories under a path, sort them by status, and find sweep files.

An episode directory holds ``manifest.json``, ``events.jsonl`` or ``error.txt``. Its
manifest's ``status`` says what it is: ``complete`` (a game played as specified),
``degraded`` (played, but model calls failed or actions were replaced by defaults beyond the
spec's limits), ``failed`` (it raised) or ``running`` (not finished, or its process died).
Hidden directories (such as the ``.compact`` cache) are never searched.
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


PLAYED = ("complete", "degraded")
"""Statuses of episodes that were played to the end, best first: an ``episode_id`` found in
several directories is read from its best copy."""


@dataclass(frozen=True)
class Discovery:
    """The episodes of a listing, after reading their manifests."""

    listing: Listing
    played: tuple[tuple[Path, dict[str, Any]], ...]
    """Complete and degraded episode directories, sorted, with their manifests (each
    ``episode_id`` once: its complete copy if it has one, else the first)."""
    failed: int
    """Episode directories whose manifest says ``failed``."""
    incomplete: int
    """Episode directories that did not finish: manifest ``running``, missing or unreadable."""
    duplicates: int
    """Played copies of an ``episode_id`` that was read from another directory."""

    def select(self, include_degraded: bool) -> tuple[tuple[Path, dict[str, Any]], ...]:
        """The played episodes to analyse: the complete ones, and the degraded ones too when
        ``include_degraded``."""
        return tuple(
            (d, m) for d, m in self.played if include_degraded or m["status"] == "complete"
        )


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
    """Read the manifests of a listing: played episodes (each episode_id once), the rest
    counted."""
    unique: dict[str, tuple[Path, dict[str, Any]]] = {}
    failed = incomplete = duplicates = 0
    for directory in listing.episode_dirs:
        manifest = _manifest(directory / MANIFEST)
        status = manifest.get("status") if manifest is not None else None
        if manifest is None or status not in PLAYED:
            failed += status == "failed"
            incomplete += status != "failed"
            continue
        duplicates += manifest["episode_id"] in unique
        known = unique.get(manifest["episode_id"])
        if known is None or PLAYED.index(status) < PLAYED.index(known[1]["status"]):
            unique[manifest["episode_id"]] = (directory, manifest)
    order = {directory: index for index, directory in enumerate(listing.episode_dirs)}
    played = tuple(sorted(unique.values(), key=lambda episode: order[episode[0]]))
    return Discovery(listing, played, failed, incomplete, duplicates)


def read_json(path: Path) -> Any:
    """Parse a JSON file."""
    return json.loads(path.read_text())


def _manifest(path: Path) -> dict[str, Any] | None:
    """The manifest with an ``episode_id``, or None when there is none or it is unreadable."""
    try:
        manifest = read_json(path)
    except (OSError, ValueError):
        return None
    if isinstance(manifest, dict) and isinstance(manifest.get("episode_id"), str):
        return manifest
    return None


def _stat(directory: str, name: str) -> tuple[int, int] | None:
    """(mtime_ns, size) of a file in ``directory``, or None when there is no such file."""
    try:
        found = os.stat(os.path.join(directory, name))
    except OSError:
        return None
    return None if stat.S_ISDIR(found.st_mode) else (found.st_mtime_ns, found.st_size)
