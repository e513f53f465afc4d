"""Where the games of ``traitors import`` are stored: loose episode directories while the run
holds few, Parquet shards once it would hold more than ``shards_past``.

Shards are written directly: a batch of rendered games is kept in memory (at most
``per_shard`` games and about ``max_shard_bytes`` of text) and written as one shard, so a
large import never creates, reads back and deletes a directory per game. When a run
crosses the threshold part-way (a count not known up front: the members of a .tar.gz), its
loose episodes are packed once (:func:`traitors.store.shards.compact`) and the rest go to
shards. A game is recorded in the journal only once it is on disk; a crash loses at most
the batch in memory, which the next run imports again.
"""

from __future__ import annotations

import os
from pathlib import Path

from traitors.store.import_journal import ImportJournal, read_journal
from traitors.store.imported import Rendered, is_imported, write_loose
from traitors.store.log import MANIFEST
from traitors.store.shards import SHARD_DIR, compact, shard_index, write_shard

MAX_SHARD_BYTES = 32 * 2**20
"""Text held for one shard before it is written (as :func:`compact` bounds its own)."""
PER_SHARD = 10_000
"""Games in one shard at most."""


class ShardError(RuntimeError):
    """A shard could not be written; the message says why and how many games it held."""


class ImportSink:
    """Stores imported games in ``out`` and journals them; ``close`` writes what is held."""

    def __init__(
        self,
        out: Path,
        shards_past: int,
        per_shard: int = PER_SHARD,
        max_shard_bytes: int = MAX_SHARD_BYTES,
    ) -> None:
        self.out = out
        self.shards_past = shards_past
        self.per_shard = per_shard
        self.max_shard_bytes = max_shard_bytes
        self.stored = read_journal(out)
        self.packed = set(shard_index(out))
        self.loose = _count_loose(out)
        self.sharding = bool(self.packed)
        self._before = self.loose + len(self.packed)
        """Episodes the run held before this import."""
        self.shards = 0
        """Shards written by this import (the packing at the threshold included)."""
        self._journal = ImportJournal(out)
        self._batch: dict[str, tuple[str, str, Rendered]] = {}
        self._bytes = 0

    def passes(self, source: str, stamp: str) -> bool:
        """Whether ``source`` (as it is now: ``stamp``) was stored by an earlier run and its
        episode is still there: it need not be read."""
        known = self.stored.get(source)
        if known is None or known.stamp != stamp:
            return False
        return known.episode in self.packed or (self.out / known.episode / MANIFEST).is_file()

    def holds(self, episode_id: str) -> bool:
        """Whether the run holds this episode: packed, in the batch, or loose."""
        return (
            episode_id in self.packed
            or episode_id in self._batch
            or is_imported(self.out, episode_id)
        )

    def expect(self, count: int) -> None:
        """``count`` games at most are to be read by this import in all: if the run would
        then hold more than the threshold, its loose episodes are packed and the rest go to
        shards."""
        if self.sharding or self._before + count <= self.shards_past:
            return
        self.sharding = True
        if self.loose:
            try:
                report = compact(self.out)
            except OSError as exc:
                raise ShardError(f"cannot pack {self.out}: {exc.strerror or exc}") from None
            self.shards += len(report.shards)
            self.packed = set(shard_index(self.out))
            self.loose = len(report.skipped)

    def add(self, source: str, stamp: str, game: Rendered) -> bool:
        """Store ``game``, read from ``source``; False if the run holds it already (it is
        kept, and ``source`` recorded as stored)."""
        if self.holds(game.episode_id):
            self._journal.write(source, stamp, game.episode_id)
            return False
        if not self.sharding:
            write_loose(self.out, game)
            self.loose += 1
            self._journal.write(source, stamp, game.episode_id)
            return True
        size = len(game.manifest) + len(game.events)
        if self._batch and (
            len(self._batch) >= self.per_shard or self._bytes + size > self.max_shard_bytes
        ):
            self.flush()
        self._batch[game.episode_id] = (source, stamp, game)
        self._bytes += size
        return True

    def flush(self) -> None:
        """Write the batch held as a shard, then journal its games."""
        if not self._batch:
            return
        rows = [
            {
                "episode_id": game.episode_id,
                "manifest": game.manifest,
                "events": game.events,
                "calls": "",
                "error": None,
            }
            for _, _, game in self._batch.values()
        ]
        try:
            write_shard(self.out, rows)
        except OSError as exc:
            raise ShardError(
                f"cannot write a shard in {self.out}: {exc.strerror or exc}; "
                f"{len(rows)} game(s) not stored"
            ) from None
        self.shards += 1
        for source, stamp, game in self._batch.values():
            self._journal.write(source, stamp, game.episode_id)
            self.packed.add(game.episode_id)
        self._batch.clear()
        self._bytes = 0

    def close(self) -> None:
        """Write what is held and close the journal."""
        try:
            self.flush()
        finally:
            self._journal.close()


def _count_loose(out: Path) -> int:
    """Episode directories directly under ``out`` (one listing; hidden ones left out)."""
    try:
        entries = list(os.scandir(out))
    except (FileNotFoundError, NotADirectoryError):
        return 0
    return sum(
        1
        for entry in entries
        if not entry.name.startswith(".")
        and entry.name != SHARD_DIR
        and entry.is_dir(follow_symlinks=False)
        and os.path.isfile(os.path.join(entry.path, MANIFEST))
    )
