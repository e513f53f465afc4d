"""``traitors import FORMAT PATH... [--out DIR]``: games played elsewhere read into episode
directories of ours, by the importer installed for FORMAT (entry-point group
``traitors.importers``, e.g. ``kaggle-werewolf``).

A PATH is a file, a directory of them (read recursively), or a .zip / .tar.gz / .tgz / .tar
of many; archive members are read as streams, never extracted. One game at a time is held
in memory. A file that is not a game of the format gets one line and is skipped; the import
goes on and exits 1. Only argparse is imported at module level (fast start-up).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from traitors.store.imported import Importer

ARCHIVES = (".zip", ".tar.gz", ".tgz", ".tar")
"""Archive suffixes; every other file is read as one game."""
REPLAYS = (".json",)
"""Suffixes of the files a directory or an archive is searched for."""

Opener = Callable[[], AbstractContextManager[IO[bytes]]]


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``import`` subcommand; its handler is :func:`run`."""
    parser = subparsers.add_parser(
        "import",
        help="read games played elsewhere (e.g. kaggle-werewolf replays) into episode dirs",
        description=(
            "Read every game in PATH (a file, a directory of them, or a .zip/.tar.gz of many) "
            "with the importer of FORMAT and write each as an episode directory under --out "
            "(default runs/import-<format>-<time>). A file that is not a game of FORMAT gets "
            "one line and is skipped; the exit code is then 1. Importing a file again keeps "
            "its episode (same id)."
        ),
    )
    parser.add_argument("format", metavar="FORMAT", help="importer, e.g. kaggle-werewolf")
    parser.add_argument("paths", type=Path, nargs="+", metavar="PATH", help="files to import")
    parser.add_argument("--out", type=Path, metavar="DIR", help="output directory")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``traitors import``: 0 when every file was imported, 1 if any was skipped."""
    import tarfile
    import zipfile
    import zlib

    from traitors.game import registry
    from traitors.store.imported import BadReplay, already_imported, clear_temp, write_imported
    from traitors.util.text import printable

    importer: Importer = registry.lookup("importer", args.format)
    out: Path = args.out or Path("runs") / f"import-{args.format}-{time.strftime('%Y%m%d-%H%M%S')}"
    clear_temp(out)
    counts = {"complete": 0, "degraded": 0, "kept": 0, "skipped": 0}
    started = time.perf_counter()
    for label, opener in _sources(args.paths, counts):
        try:
            with opener() as stream:
                episode = importer.read(stream, label)
        except BadReplay as exc:
            _skip(label, str(exc), counts)
            continue
        except (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError, zlib.error) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            _skip(label, f"cannot read: {reason}", counts)
            continue
        if already_imported(out, episode):
            counts["kept"] += 1
            continue
        try:
            write_imported(out, episode)
        except OSError as exc:
            _skip(label, f"cannot write its episode: {exc.strerror or exc}", counts)
            continue
        status = episode.manifest.status
        counts[status if status in counts else "degraded"] += 1
        if status != "complete":
            reason = printable(episode.manifest.status_reason or "")
            print(f"{status} {printable(label)}: {reason}")
    elapsed = time.perf_counter() - started
    games = counts["complete"] + counts["degraded"]
    print(
        f"imported {games} game(s) into {printable(str(out))} in {elapsed:.1f} s: "
        f"{counts['complete']} complete, {counts['degraded']} degraded; "
        f"{counts['kept']} already there; {counts['skipped']} file(s) skipped"
    )
    return 1 if counts["skipped"] else 0


def _skip(label: str, reason: str, counts: dict[str, int]) -> None:
    from traitors.util.text import printable

    counts["skipped"] += 1
    print(f"skipped {printable(label)}: {printable(reason)}", file=sys.stderr)


def _sources(paths: list[Path], counts: dict[str, int]) -> Iterator[tuple[str, Opener]]:
    """Each game file under ``paths``: its name for messages and how to open it."""
    for path in paths:
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                if _is_archive(file):
                    yield from _archive(file, counts)
                elif file.name.endswith(REPLAYS):
                    yield str(file), _opener(file)
        elif path.is_file() and _is_archive(path):
            yield from _archive(path, counts)
        elif path.is_file():
            yield str(path), _opener(path)
        else:
            _skip(str(path), "no such file or directory", counts)


def _is_archive(path: Path) -> bool:
    return path.name.endswith(ARCHIVES)


def _opener(path: Path) -> Opener:
    return lambda: open(path, "rb")


def _archive(path: Path, counts: dict[str, int]) -> Iterator[tuple[str, Opener]]:
    """Each game file in an archive, read as a stream from it."""
    import tarfile
    import zipfile

    try:
        if path.name.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if not info.is_dir() and info.filename.endswith(REPLAYS):
                        yield f"{path}:{info.filename}", _zip_member(archive, info)
        else:
            with tarfile.open(path, "r:*") as tar:
                for member in tar:
                    if member.isfile() and member.name.endswith(REPLAYS):
                        yield f"{path}:{member.name}", _tar_member(tar, member)
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        _skip(str(path), f"not a readable archive ({exc})", counts)


def _zip_member(archive: object, info: object) -> Opener:
    import zipfile

    assert isinstance(archive, zipfile.ZipFile) and isinstance(info, zipfile.ZipInfo)
    return lambda: archive.open(info)


def _tar_member(tar: object, member: object) -> Opener:
    import contextlib
    import tarfile

    assert isinstance(tar, tarfile.TarFile) and isinstance(member, tarfile.TarInfo)

    @contextlib.contextmanager
    def opened() -> Iterator[IO[bytes]]:
        stream = tar.extractfile(member)
        if stream is None:
            raise OSError(f"{member.name}: not a file")
        with stream:
            yield stream

    return opened
