"""Parquet shards: finished episodes of a run packed many to a file.

A run or sweep of 100,000 episodes is 300,000 small files as episode directories.
:func:`compact` packs the finished ones into ``<run_dir>/shards/shard-NNNNN.parquet``
(sequence numbers from 00000, zero-padded; more digits past 99999), one row per episode:

============== ======== ===================================================================
column         type     content
============== ======== ===================================================================
``episode_id`` str      the episode's id (its directory's name; rows sorted by it)
``manifest``   str      ``manifest.json``, byte for byte
``events``     str      ``events.jsonl``, byte for byte
``calls``      str      ``calls.jsonl``, byte for byte; ``""`` when the episode has none
``error``      str|null ``error.txt``, or null when there is none
============== ======== ===================================================================

(zstd-compressed, 128 episodes per row group, column statistics on, so reading one
column or one episode reads little). Files must be UTF-8 text to be packed byte for byte.

**What is packed.** Only directories directly under ``run_dir`` (nested run directories are
not entered) holding a manifest whose status is ``complete`` or ``degraded``, named by its
``episode_id``, with an ``events.jsonl``, nothing but the episode's four files, all of
them UTF-8. Running and failed episodes stay loose so a sweep can run them again; a
finished one that cannot be packed losslessly stays loose and is named in
:attr:`CompactReport.skipped`.

**Crash safety.** A shard is written to a hidden temp file in ``shards/``, flushed to disk
and linked to its final name (never over an existing shard), and only then are the
directories it holds removed (each one only if none of its files changed since it was
read; its manifest first, so a half-removed directory never looks finished). A crash at
any point loses nothing; it can leave an episode both loose and packed, with identical
files. The next :func:`compact` removes such a copy (if it is identical) without packing
it again; a directory a crash left without its manifest is left alone (readers read the
packed copy; it can be deleted by hand). Existing shards are never rewritten: the cost
of a compaction is one listing of ``run_dir``, one manifest read per loose directory, and
reading and writing the episodes it packs (plus the ``episode_id`` column of the shards
already there).

**Which copy readers use.** An episode can be held twice: loose and packed (a crash
during compaction: identical files), or packed twice (a degraded episode packed, re-run by
a sweep, then packed again). Every reader picks the same copy: the loose directory if its
manifest says the episode finished (``complete``, ``degraded`` or ``failed``: it is
identical or newer); otherwise (no directory, or one still running or without a manifest)
the copy in the shard with the highest sequence number (:func:`shard_index`).

**API.**

- :func:`compact` ``(run_dir, *, per_shard=10_000, min_episodes=1,
  max_shard_bytes=32 MiB) -> CompactReport``: pack the loose finished episodes (a
  compaction holds about four times ``max_shard_bytes`` in memory at once).
- :func:`write_shard` ``(run_dir, rows) -> Path``: write episodes given as rows (one
  ``SCHEMA`` mapping each) as the next shard, with the same guarantees (for writers, such as
  ``traitors import``, that never had the episodes loose).
- :func:`shard_files` ``(run_dir) -> list[Path]``: the shards, in sequence order.
- :func:`shard_index` ``(run_dir) -> dict[str, Path]``: episode id -> the shard read for it.
- :func:`read_sharded_manifests` ``(run_dir) -> Iterator[tuple[str, str]]``: (episode id,
  manifest text) of each packed episode, once.
- :func:`packed_statuses` ``(run_dir) -> dict[str, str]`` and :func:`is_complete_or_packed`
  ``(directory, packed) -> bool``: for a sweep deciding what is already complete;
  :func:`packed_winners` ``(run_dir) -> dict[str, str]``: who won each packed episode.
- :func:`extract` ``(run_dir, episode_id, into) -> Path``: write a packed episode's files
  back into ``into/<episode_id>/`` (manifest last, atomically).
- :func:`resolve_episode` ``(path, episode_id=None) -> Path``: a directory that watch and
  replay can open, extracting the episode into ``<run_dir>/.extracted/<episode_id>/``
  (a cache, reused; safe to delete) when its own directory is gone.
- :func:`read_shard` ``(shard, columns, ids=None) -> polars.DataFrame`` and
  :func:`read_row` ``(shard, episode_id, columns) -> dict``: raw reads (LogError naming a
  damaged shard).

Compaction is for finished work: do not run it on a directory an episode is being re-run
into (a directory that changes while it is packed is kept, but a writer that opened its
files before they were removed loses them). A sweep calls it between attempts or at the end.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from traitors.store.log import (
    CALLS,
    ERROR,
    EVENTS,
    MANIFEST,
    LogError,
    problem,
    read_manifest,
    write_bytes_atomic,
)

SHARD_DIR = "shards"
"""Subdirectory of a run directory holding its shards."""
EXTRACTED_DIR = ".extracted"
"""Subdirectory of a run directory where :func:`resolve_episode` extracts packed episodes
(hidden, so the analysis never reads it)."""
SHARD_NAME = re.compile(r"^shard-(\d+)\.parquet$")
"""A shard's file name; the number is its sequence."""
SCHEMA: dict[str, pl.DataType] = {
    "episode_id": pl.String(),
    "manifest": pl.String(),
    "events": pl.String(),
    "calls": pl.String(),
    "error": pl.String(),
}
"""A shard's columns, in order."""
PACKED_STATUSES = ("complete", "degraded")
"""Manifest statuses of the episodes :func:`compact` packs."""
FINISHED_STATUSES = ("complete", "degraded", "failed")
"""Statuses for which a loose copy of an episode is read rather than a packed one."""
EPISODE_FILES = (MANIFEST, EVENTS, CALLS, ERROR)
"""Everything an episode directory may hold to be packed (and then removed)."""
ROW_GROUP = 128
"""Episodes per Parquet row group."""
STALE_TEMP_SECONDS = 3600.0
"""A temp file in ``shards/`` this old was left by a compaction that crashed."""


@dataclass(frozen=True)
class CompactReport:
    """What one :func:`compact` did."""

    shards: tuple[Path, ...]
    """The shards written, in order."""
    packed: int
    """Episodes written into those shards."""
    removed: int
    """Episode directories removed (packed now, or already packed by an earlier run)."""
    skipped: tuple[str, ...] = ()
    """Complete or degraded episode directories left loose, each as ``"<dir>: <why>"``."""


@dataclass(frozen=True)
class _Loose:
    """A loose episode directory read for packing."""

    directory: Path
    texts: dict[str, str | None]
    """Column -> text, as the shard row will hold it."""
    stamps: dict[str, tuple[int, int, int]]
    """File name -> (inode, mtime_ns, size) before it was read."""

    @property
    def size(self) -> int:
        return sum(len(t) for t in self.texts.values() if t is not None)


# --- reading ---------------------------------------------------------------------------


def shard_sequence(path: Path) -> int | None:
    """The sequence number of a shard file, or None if ``path`` is not named like one."""
    match = SHARD_NAME.match(path.name)
    return int(match.group(1)) if match else None


def shard_files(run_dir: Path) -> list[Path]:
    """The shards of ``run_dir``, in sequence order (temp files and other names left out)."""
    try:
        entries = list(os.scandir(Path(run_dir) / SHARD_DIR))
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = [
        (sequence, Path(entry.path))
        for entry in entries
        if (sequence := shard_sequence(Path(entry.name))) is not None
        and entry.is_file(follow_symlinks=False)
    ]
    return [path for _, path in sorted(found)]


def shard_index(run_dir: Path) -> dict[str, Path]:
    """Episode id -> the shard holding it (the last in sequence when several do); reads
    only the ``episode_id`` column."""
    index: dict[str, Path] = {}
    for shard in shard_files(run_dir):
        for episode_id in _column(shard, "episode_id"):
            index[episode_id] = shard
    return index


def read_sharded_manifests(run_dir: Path) -> Iterator[tuple[str, str]]:
    """(episode id, manifest text) of every packed episode of ``run_dir``, each once (from
    the shard :func:`shard_index` names), shard by shard from the last; reads only those
    two columns."""
    seen: set[str] = set()
    for shard in reversed(shard_files(run_dir)):
        for episode_id, manifest in read_shard(shard, ["episode_id", "manifest"]).iter_rows():
            if episode_id not in seen:
                seen.add(episode_id)
                yield episode_id, manifest


def packed_statuses(run_dir: Path) -> dict[str, str]:
    """Episode id -> the manifest status of its packed copy (the one :func:`shard_index`
    names), for every packed episode of ``run_dir``."""
    statuses: dict[str, str] = {}
    for shard in shard_files(run_dir):
        frame = read_shard(shard, ["episode_id", "manifest"])
        status = pl.col("manifest").str.json_path_match("$.status").fill_null("")
        statuses.update(frame.select("episode_id", status).iter_rows())
    return statuses


def packed_winners(run_dir: Path) -> dict[str, str]:
    """Episode id -> who won its packed copy (``draw`` for none), for every packed episode
    of ``run_dir`` whose game ended (the copy :func:`shard_index` names)."""
    winners: dict[str, str] = {}
    for shard in shard_files(run_dir):
        frame = read_shard(shard, ["episode_id", "manifest"])
        manifest = pl.col("manifest").str
        outcome = (
            manifest.json_path_match("$.outcome.winner"),
            manifest.json_path_match("$.outcome.reason").alias("reason"),
        )
        for episode_id, winner, reason in frame.select("episode_id", *outcome).iter_rows():
            if reason is None:
                winners.pop(episode_id, None)
            else:
                winners[episode_id] = winner or "draw"
    return winners


def is_complete_or_packed(directory: Path, packed: Mapping[str, str]) -> bool:
    """Whether the episode of ``directory`` (``<run_dir>/<episode_id>``) is complete, loose
    or packed, as readers see it: its loose manifest decides when it says the episode
    finished, else its packed copy's status in ``packed`` (from :func:`packed_statuses`)."""
    manifest = read_manifest(directory)
    if manifest is not None and manifest.status in FINISHED_STATUSES:
        return manifest.played
    return packed.get(Path(directory).name) == "complete"


def read_row(
    shard: Path, episode_id: str, columns: Sequence[str] = tuple(SCHEMA)
) -> dict[str, Any]:
    """The ``columns`` of ``episode_id``'s row in ``shard`` (the last, if several); KeyError
    if the shard does not hold it."""
    frame = read_shard(shard, columns, [episode_id])
    if frame.is_empty():
        raise KeyError(episode_id)
    return frame.row(-1, named=True)


def extract(run_dir: Path, episode_id: str, into: Path) -> Path:
    """Write a packed episode's files into ``into/<episode_id>/`` and return that directory.

    The manifest is removed first and written last, atomically, as the engine writes it,
    so the directory never looks finished before it is whole; files of another copy that
    this one lacks (``calls.jsonl``, ``error.txt``) are removed. FileNotFoundError (naming
    the run and the id) if no shard of ``run_dir`` holds the episode.
    """
    run_dir = Path(run_dir)
    shard = shard_index(run_dir).get(episode_id)
    if shard is None:
        raise FileNotFoundError(f"{run_dir}: no shard holds episode {episode_id}")
    return _write_episode(Path(into) / episode_id, read_row(shard, episode_id))


def resolve_episode(path: Path, episode_id: str | None = None) -> Path:
    """A directory holding the episode at ``path`` (or ``episode_id`` of the run ``path``),
    for watch and replay.

    The episode's own directory when it has a manifest; otherwise, when a shard of the run
    holds the episode (``episode_id``, or the last part of ``path``, may be a unique prefix
    of its id), a copy extracted into ``<run_dir>/.extracted/<episode_id>/`` (reused while
    its manifest matches the shard's); otherwise the directory itself if it exists (an
    episode just started). FileNotFoundError naming the run and the id when none holds it.
    """
    path = Path(path)
    run_dir, wanted = (path.parent, path.name) if episode_id is None else (path, episode_id)
    directory = run_dir / wanted
    if (directory / MANIFEST).is_file():
        return directory
    index = shard_index(run_dir)
    found = wanted if wanted in index else _unique_prefix(wanted, index)
    if found is None:
        if directory.is_dir():
            return directory
        raise FileNotFoundError(
            f"{directory}: no such episode directory, and no shard of {run_dir} holds "
            f"episode {wanted}"
        )
    cached = run_dir / EXTRACTED_DIR / found
    manifest = read_row(index[found], found, ["manifest"])["manifest"]
    try:
        if (cached / MANIFEST).read_bytes() == manifest.encode():
            return cached
    except OSError:
        pass
    return _write_episode(cached, read_row(index[found], found))


def _unique_prefix(prefix: str, index: Mapping[str, Path]) -> str | None:
    matches = [episode_id for episode_id in index if episode_id.startswith(prefix)]
    return matches[0] if len(matches) == 1 and prefix else None


def _write_episode(directory: Path, row: Mapping[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MANIFEST).unlink(missing_ok=True)
    write_bytes_atomic(directory / EVENTS, row["events"].encode())
    for name, text in ((CALLS, row["calls"] or None), (ERROR, row["error"])):
        if text is None:
            (directory / name).unlink(missing_ok=True)
        else:
            write_bytes_atomic(directory / name, text.encode())
    write_bytes_atomic(directory / MANIFEST, row["manifest"].encode())
    return directory


def read_shard(
    shard: Path, columns: Sequence[str] = tuple(SCHEMA), ids: Sequence[str] | None = None
) -> pl.DataFrame:
    """The ``columns`` of a shard (of the rows of ``ids`` only, if given); LogError naming
    the file if it cannot be read."""
    try:
        frame = pl.scan_parquet(shard)
        if ids is not None:
            frame = frame.filter(pl.col("episode_id").is_in(list(ids)))
        return frame.select(list(columns)).collect()
    except FileNotFoundError:
        raise
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise LogError(f"{shard}: damaged shard: {problem(exc)}") from None


def _column(shard: Path, name: str) -> list[str]:
    return read_shard(shard, [name])[name].to_list()


# --- writing ---------------------------------------------------------------------------


def compact(
    run_dir: Path,
    *,
    per_shard: int = 10_000,
    min_episodes: int = 1,
    max_shard_bytes: int = 32 * 2**20,
) -> CompactReport:
    """Pack every loose complete or degraded episode directly under ``run_dir`` into new
    shards of at most ``per_shard`` episodes (and about ``max_shard_bytes`` of text, so
    memory stays bounded whatever the episodes hold), removing each directory once its
    shard is safely written. Does nothing when fewer than ``min_episodes`` episodes are
    there to pack (a sweep may call it with ``min_episodes=per_shard`` as it goes, then
    with the default at the end). A loose copy identical to its packed copy (left by a
    crash) is removed without being packed again. Existing shards are never rewritten.
    """
    run_dir = Path(run_dir)
    if per_shard < 1 or min_episodes < 0:
        raise ValueError("per_shard must be at least 1 and min_episodes at least 0")
    if not run_dir.is_dir():
        raise FileNotFoundError(f"{run_dir}: no such directory")
    candidates = _candidates(run_dir)
    if len(candidates) < min_episodes:  # cheap: no file read yet
        return CompactReport((), 0, 0)
    skipped: list[str] = []
    finished: list[Path] = []  # only paths: the files are read when their shard is written
    for directory in candidates:
        checked = _check(directory)
        if isinstance(checked, tuple):
            finished.append(directory)
        elif checked:
            skipped.append(f"{directory}: {checked}")
    fresh, removed = _drop_packed_copies(run_dir, finished, skipped)
    if len(fresh) < min_episodes:
        return CompactReport((), 0, removed, tuple(skipped))
    _remove_stale_temps(run_dir / SHARD_DIR)
    shards: list[Path] = []
    packed = 0
    batch: list[_Loose] = []
    size = 0

    def flush() -> None:
        nonlocal packed, removed, size
        if batch:
            shards.append(write_shard(run_dir, [loose.texts for loose in batch]))
            packed += len(batch)
            removed += sum(_remove(loose) for loose in batch)
            batch.clear()
            size = 0

    for directory in fresh:
        loose = _read_loose(directory)
        if not isinstance(loose, _Loose):
            skipped.extend([f"{directory}: {loose}"] if loose else [])
            continue
        if batch and (len(batch) >= per_shard or size + loose.size > max_shard_bytes):
            flush()
        batch.append(loose)
        size += loose.size
    flush()
    return CompactReport(tuple(shards), packed, removed, tuple(skipped))


def _candidates(run_dir: Path) -> list[Path]:
    """Directories directly under ``run_dir`` holding a manifest, sorted by name."""
    found = []
    with os.scandir(run_dir) as entries:
        for entry in entries:
            if entry.name.startswith(".") or entry.name == SHARD_DIR:
                continue
            if entry.is_dir(follow_symlinks=False) and os.path.isfile(
                os.path.join(entry.path, MANIFEST)
            ):
                found.append(Path(entry.path))
    return sorted(found)


def _stamp(path: Path) -> tuple[int, int, int]:
    found = os.stat(path, follow_symlinks=False)
    return found.st_ino, found.st_mtime_ns, found.st_size


def _check(directory: Path) -> tuple[str, dict[str, tuple[int, int, int]]] | str | None:
    """(manifest text, file stamps) of a directory to pack; else why it cannot be packed
    (a finished episode), or None (running, failed: not to be packed)."""
    try:
        names = {entry.name for entry in os.scandir(directory)}
        stamps = {name: _stamp(directory / name) for name in sorted(names)}
        manifest = (directory / MANIFEST).read_bytes().decode()
        data = json.loads(manifest)
    except (OSError, ValueError):
        return None  # gone, unreadable or not UTF-8: not a finished episode to pack
    if not isinstance(data, dict) or data.get("status") not in PACKED_STATUSES:
        return None
    if data.get("episode_id") != directory.name:
        return f"its manifest names episode {data.get('episode_id')!r}"
    if EVENTS not in names:
        return f"no {EVENTS}"
    others = sorted(names - set(EPISODE_FILES))
    if others:
        return f"holds other files ({', '.join(others)})"
    return manifest, stamps


def _read_loose(directory: Path) -> _Loose | str | None:
    """The texts of an episode to pack; else why it cannot be packed, or None if it is no
    longer a finished episode (checked again: it may have changed since it was listed)."""
    checked = _check(directory)
    if not isinstance(checked, tuple):
        return checked
    manifest, stamps = checked
    texts: dict[str, str | None] = {"episode_id": directory.name, "manifest": manifest}
    for column, name in (("events", EVENTS), ("calls", CALLS), ("error", ERROR)):
        if name not in stamps:
            texts[column] = "" if column == "calls" else None
            continue
        try:
            texts[column] = (directory / name).read_bytes().decode()
        except UnicodeDecodeError:
            return f"{name} is not UTF-8 text"
        except OSError as exc:
            return f"{name}: {exc.strerror or exc}"
    return _Loose(directory, texts, stamps)


def write_shard(run_dir: Path, rows: Sequence[Mapping[str, str | None]]) -> Path:
    """Write ``rows`` (one per episode: the columns of :data:`SCHEMA`, texts as the
    episode's files hold them) as the next shard of ``run_dir``, sorted by episode id,
    atomically and durably; return its path."""
    shard_dir = Path(run_dir) / SHARD_DIR
    shard_dir.mkdir(exist_ok=True)
    ordered = sorted(rows, key=lambda row: str(row["episode_id"]))
    frame = pl.DataFrame(ordered, schema=SCHEMA)
    fd, temp = tempfile.mkstemp(dir=shard_dir, prefix=".shard-", suffix=".parquet.tmp")
    os.close(fd)
    try:
        frame.write_parquet(temp, compression="zstd", row_group_size=ROW_GROUP, statistics=True)
        _fsync(Path(temp))
        sequence = max((shard_sequence(p) or 0 for p in shard_files(shard_dir.parent)), default=-1)
        while True:
            sequence += 1
            final = shard_dir / f"shard-{sequence:05d}.parquet"
            if _link_new(Path(temp), final):
                break
        _fsync(shard_dir)
    finally:
        Path(temp).unlink(missing_ok=True)
    return final


def _link_new(temp: Path, final: Path) -> bool:
    """Give ``temp`` the name ``final`` unless a file has it; True if it now has."""
    try:
        os.link(temp, final)
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: check, then rename
        if final.exists():
            return False
        os.replace(temp, final)
    return True


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # e.g. a directory on a file system that cannot sync one
    finally:
        os.close(fd)


def _remove(loose: _Loose) -> bool:
    """Remove a packed directory if none of its files changed since it was read (manifest
    first); True if it is gone."""
    return _remove_directory(loose.directory, loose.stamps)


def _remove_directory(directory: Path, stamps: Mapping[str, tuple[int, int, int]]) -> bool:
    try:
        now = {entry.name: _stamp(Path(entry.path)) for entry in os.scandir(directory)}
    except OSError:
        return False
    if now != stamps:
        return False  # written since (an episode run again): keep it, readers prefer it
    for name in sorted(stamps, key=lambda n: n != MANIFEST):
        (directory / name).unlink(missing_ok=True)
    try:
        directory.rmdir()
    except OSError:
        return False
    return True


def _drop_packed_copies(
    run_dir: Path, finished: list[Path], skipped: list[str]
) -> tuple[list[Path], int]:
    """The directories of ``finished`` to pack, and how many were removed: a loose copy
    identical to the packed copy of its episode (a crash between writing a shard and
    removing its directories) is removed; one that differs is newer and is packed again."""
    index = shard_index(run_dir) if finished else {}
    fresh = [directory for directory in finished if directory.name not in index]
    by_shard: dict[Path, list[Path]] = {}
    for directory in finished:
        if directory.name in index:
            by_shard.setdefault(index[directory.name], []).append(directory)
    removed = 0
    for shard, copies in by_shard.items():
        rows = read_shard(shard, tuple(SCHEMA), [directory.name for directory in copies])
        packed = {row["episode_id"]: row for row in rows.iter_rows(named=True)}
        for directory in copies:
            loose = _read_loose(directory)
            if not isinstance(loose, _Loose):
                skipped.extend([f"{directory}: {loose}"] if loose else [])
            elif packed.get(directory.name) == loose.texts:
                removed += _remove(loose)
            else:
                fresh.append(directory)
    return sorted(fresh), removed


def _remove_stale_temps(shard_dir: Path) -> None:
    try:
        entries = list(os.scandir(shard_dir))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        if entry.name.startswith(".shard-") and entry.name.endswith(".tmp"):
            try:
                if now - entry.stat().st_mtime > STALE_TEMP_SECONDS:
                    os.unlink(entry.path)
            except OSError:
                pass
