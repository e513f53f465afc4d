"""The game files of ``traitors import``: each PATH a file, a directory of them (read
recursively) or a .zip / .tar.gz / .tgz / .tar of many, found lazily and in order.

A file is read where it is. An archive is read once, from start to end: each member is
copied (streamed) to a hidden spool file for the process that imports it, and removed once
it is read, so an archive is never extracted whole and a .tar.gz is never decompressed
twice. Files an earlier run stored (``passes``) are counted, not opened. A path or member
that cannot be read gets one line through ``refuse``.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO

ARCHIVES = (".zip", ".tar.gz", ".tgz", ".tar")
"""Archive suffixes; every other file is read as one game."""
REPLAYS = (".json",)
"""Suffixes of the files a directory or an archive is searched for."""


@dataclass(frozen=True)
class Task:
    """One game file to import: sent to a worker process."""

    label: str
    """Its name in messages and in the journal (``archive:member`` for a member)."""
    stamp: str
    """Its size and modification time (the archive's, for a member)."""
    path: Path
    """The file to read: the file itself, or a member's spool copy."""
    spooled: bool = False
    """Whether ``path`` is a spool copy, to remove once read."""


class Sources:
    """The tasks under ``paths``; ``found`` counts those to read so far, ``passed`` those
    an earlier run stored."""

    def __init__(
        self,
        paths: list[Path],
        spool: Path,
        passes: Callable[[str, str], bool],
        refuse: Callable[[str, str], None],
    ) -> None:
        self.paths = paths
        self.spool = spool
        self.passes = passes
        self.refuse = refuse
        self.found = 0
        self.passed = 0
        self._numbers = itertools.count()

    def __iter__(self) -> Iterator[Task]:
        for path in self.paths:
            if path.is_dir():
                yield from self._directory(path)
            elif path.is_file() and _is_archive(path):
                yield from self._archive(path)
            elif path.is_file():
                yield from self._files([path])
            else:
                self.refuse(str(path), "no such file or directory")

    def _directory(self, directory: Path) -> Iterator[Task]:
        files = sorted(p for p in directory.rglob("*") if p.is_file())
        replays = [file for file in files if not _is_archive(file) and file.name.endswith(REPLAYS)]
        tasks = self._files(replays)
        by_path = {task.path: task for task in tasks}
        for file in files:
            if _is_archive(file):
                yield from self._archive(file)
            elif file in by_path:
                yield by_path[file]

    def _files(self, files: list[Path]) -> list[Task]:
        """The files to read (counted as found; those an earlier run stored counted as
        passed)."""
        tasks = []
        for file in files:
            try:
                stamp = _stamp(file)
            except OSError as exc:
                self.refuse(str(file), f"cannot read: {exc.strerror or exc}")
                continue
            if self.passes(str(file), stamp):
                self.passed += 1
            else:
                tasks.append(Task(str(file), stamp, file))
        self.found += len(tasks)
        return tasks

    def _archive(self, path: Path) -> Iterator[Task]:
        """Each member to read, spooled as it is reached."""
        import tarfile
        import zipfile
        import zlib

        errors = (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError, zlib.error)
        try:
            stamp = _stamp(path)
            if path.name.endswith(".zip"):
                with zipfile.ZipFile(path) as archive:
                    infos = [
                        info
                        for info in archive.infolist()
                        if not info.is_dir() and info.filename.endswith(REPLAYS)
                    ]
                    wanted = self._members(path, stamp, [(i.filename, i.file_size) for i in infos])
                    self.found += len(wanted)
                    for info in infos:
                        task = wanted.pop(info.filename, None)
                        if task is not None:
                            yield from self._spooled(task, partial(archive.open, info), errors)
            else:
                with tarfile.open(path, "r:*") as tar:
                    for member in tar:
                        if not (member.isfile() and member.name.endswith(REPLAYS)):
                            continue
                        found = self._members(path, stamp, [(member.name, member.size)])
                        self.found += len(found)
                        for task in found.values():
                            yield from self._spooled(task, partial(tar.extractfile, member), errors)
        except errors as exc:
            self.refuse(str(path), f"not a readable archive ({exc})")

    def _members(self, path: Path, stamp: str, members: list[tuple[str, int]]) -> dict[str, Task]:
        """Member name -> its task, for the members an earlier run did not store."""
        wanted = {}
        for name, size in members:
            label, member_stamp = f"{path}:{name}", f"{stamp}:{size}"
            if self.passes(label, member_stamp):
                self.passed += 1
            else:
                copy = self.spool / f"{next(self._numbers)}.json"
                wanted[name] = Task(label, member_stamp, copy, spooled=True)
        return wanted

    def _spooled(
        self,
        task: Task,
        opener: Callable[[], IO[bytes] | None],
        errors: tuple[type[Exception], ...],
    ) -> Iterator[Task]:
        """``task`` once its member is copied to its spool file (nothing if it cannot be
        read: one line)."""
        self.spool.mkdir(parents=True, exist_ok=True)
        try:
            stream = opener()
            if stream is None:
                raise OSError("not a file")
            with stream, open(task.path, "wb") as copy:
                shutil.copyfileobj(stream, copy)
        except errors as exc:
            task.path.unlink(missing_ok=True)
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            self.refuse(task.label, f"cannot read: {reason}")
            return
        yield task


def _is_archive(path: Path) -> bool:
    return path.name.endswith(ARCHIVES)


def _stamp(path: Path) -> str:
    found = os.stat(path)
    return f"{found.st_size}:{found.st_mtime_ns}"
