"""Find the episodes under a path, loose and packed in shards, sort them by status, and find
sweep files.

An episode directory holds ``manifest.json``, ``events.jsonl`` or ``error.txt``. Its
manifest's ``status`` says what it is: ``complete`` (a game played as specified),
``degraded`` (played, but model calls failed or actions were replaced by defaults beyond the
spec's limits), ``failed`` (it raised) or ``running`` (not finished, or its process died).
Hidden directories (such as the ``.compact`` cache and ``.extracted`` copies) are never
searched.

A run directory may also hold ``shards/shard-NNNNN.parquet`` (``traitors.store.shards``):
finished episodes packed one per row, their manifests in the ``manifest`` column. A packed
episode stands for the directory it was packed from, ``<run>/<episode_id>`` (its ``path``
in the frames), so a run reads the same before and after compaction. An episode held both
loose and packed in one run is read once, the copy the engine's readers pick: the loose one
when its manifest says it finished, else the packed one from the last shard holding it.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from analysis.errors import AnalysisError
from traitors.store.log import ERROR, EVENTS, MANIFEST
from traitors.store.shards import FINISHED_STATUSES, SHARD_DIR, shard_sequence

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
    """(relative path, mtime_ns, size) of every manifest, shard and sweep file, and
    (directory, 0, 0) for an episode directory without a manifest: changes on any write."""
    shards: tuple[Path, ...] = ()
    """Every shard file (``<run>/shards/shard-NNNNN.parquet``), by run, in sequence order."""


PLAYED = ("complete", "degraded")
"""Statuses of episodes that were played to the end, best first: an ``episode_id`` found in
several directories is read from its best copy."""


@dataclass(frozen=True)
class Discovery:
    """The episodes of a listing, after reading their manifests."""

    listing: Listing
    played: tuple[tuple[Path, dict[str, Any]], ...]
    """Complete and degraded episode directories, sorted, with their manifests (each
    ``episode_id`` once: its complete copy if it has one, else the first). A packed episode
    is named by the directory it was packed from, which no longer exists."""
    failed: int
    """Episode directories whose manifest says ``failed``."""
    incomplete: int
    """Episode directories that did not finish: manifest ``running`` or missing."""
    duplicates: int
    """Played copies of an ``episode_id`` that was read from another directory."""
    sharded: dict[Path, Path] = field(default_factory=dict)
    """Directory of a packed episode in ``played`` -> the shard to read it from."""
    unreadable: tuple[Path, ...] = ()
    """Shard files that cannot be read (damaged): their episodes are left out."""
    damaged: tuple[Path, ...] = ()
    """Manifests that cannot be read: written atomically, so damaged, not unfinished."""

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
    shards: list[str] = []
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
        subdirs = {e.name for e in entries if e.is_dir(follow_symlinks=False)}
        if SHARD_DIR in subdirs and _shards(directory, relative, shards, stamps):
            subdirs.remove(SHARD_DIR)
        for name in sorted(n for n in subdirs if not n.startswith(".")):
            visit(os.path.join(directory, name), os.path.join(relative, name))

    visit(str(root), "")  # depth first, names sorted: the directories come out sorted
    return Listing(
        root,
        tuple(map(Path, episode_dirs)),
        tuple(map(Path, sweeps)),
        tuple(stamps),
        tuple(map(Path, shards)),
    )


def _shards(
    directory: str, relative: str, shards: list[str], stamps: list[tuple[str, int, int]]
) -> bool:
    """Add the shard files of the run ``directory`` (in sequence order) and their stamps;
    False if its ``shards`` directory holds none (then it is searched like any other)."""
    found: list[tuple[int, str, int, int]] = []
    with os.scandir(os.path.join(directory, SHARD_DIR)) as listing:
        for entry in listing:
            sequence = shard_sequence(Path(entry.name))
            if sequence is not None and entry.is_file(follow_symlinks=False):
                info = entry.stat(follow_symlinks=False)
                found.append((sequence, entry.name, info.st_mtime_ns, info.st_size))
    for _, name, mtime, size in sorted(found):
        shards.append(os.path.join(directory, SHARD_DIR, name))
        stamps.append((os.path.join(relative, SHARD_DIR, name), mtime, size))
    return bool(found)


def discover(listing: Listing) -> Discovery:
    """Read the manifests of a listing, loose and packed: played episodes (each episode_id
    once), the rest counted."""
    packed, unreadable = _packed(listing.shards)
    copies: list[tuple[Path, dict[str, Any] | None]] = []
    damaged: list[Path] = []
    for directory in listing.episode_dirs:
        manifest = _manifest(directory / MANIFEST)
        if directory in packed:
            status = manifest.get("status") if manifest is not None else None
            if status not in FINISHED_STATUSES:
                continue  # unfinished (a re-run, or a crash while removing it): read the shard
            del packed[directory]  # finished: the same as the packed copy, or newer
        elif manifest is None and (directory / MANIFEST).is_file():
            damaged.append(directory / MANIFEST)
            continue
        copies.append((directory, manifest))
    copies.extend((directory, _parse(text)) for directory, (_, text) in packed.items())
    copies.sort(key=lambda copy: copy[0].parts)  # the order of the directories as listed
    unique: dict[str, tuple[Path, dict[str, Any]]] = {}
    failed = incomplete = duplicates = 0
    for directory, manifest in copies:
        status = manifest.get("status") if manifest is not None else None
        if manifest is None or status not in PLAYED:
            failed += status == "failed"
            incomplete += status != "failed"
            continue
        duplicates += manifest["episode_id"] in unique
        known = unique.get(manifest["episode_id"])
        if known is None or PLAYED.index(status) < PLAYED.index(known[1]["status"]):
            unique[manifest["episode_id"]] = (directory, manifest)
    played = tuple(sorted(unique.values(), key=lambda episode: episode[0].parts))
    sharded = {d: packed[d][0] for d, _ in played if d in packed}
    return Discovery(
        listing, played, failed, incomplete, duplicates, sharded, unreadable, tuple(damaged)
    )


def _packed(
    shards: tuple[Path, ...],
) -> tuple[dict[Path, tuple[Path, str]], tuple[Path, ...]]:
    """The directory each packed episode was packed from -> (the shard to read it from, its
    manifest text), of several shards of a run holding an episode the last in sequence; and
    the shards that cannot be read."""
    packed: dict[Path, tuple[Path, str]] = {}
    unreadable: list[Path] = []
    for shard in shards:  # by run, in sequence order: a later copy replaces an earlier one
        run = shard.parent.parent
        try:
            rows = pl.read_parquet(shard, columns=["episode_id", "manifest"])
        except (OSError, pl.exceptions.PolarsError):
            unreadable.append(shard)
            continue
        for episode_id, text in rows.iter_rows():
            if isinstance(episode_id, str):
                packed[run / episode_id] = (shard, text)
    return packed, tuple(unreadable)


def read_json(path: Path) -> Any:
    """Parse a JSON file."""
    return json.loads(path.read_text())


def _manifest(path: Path) -> dict[str, Any] | None:
    """The manifest with an ``episode_id``, or None when there is none or it is unreadable."""
    try:
        return _parse(path.read_text())
    except (OSError, ValueError):
        return None


def _parse(text: str | None) -> dict[str, Any] | None:
    """A manifest's text as a mapping with an ``episode_id``, or None if it is not one."""
    try:
        manifest = json.loads(text) if text is not None else None
    except ValueError:
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
