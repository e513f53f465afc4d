"""``traitors import FORMAT PATH... [--out DIR] [--workers N] [--shards-past N]``: games
played elsewhere read into episodes of ours, by the importer installed for FORMAT
(entry-point group ``traitors.importers``: each game brings its own).

A PATH is a file, a directory of them (read recursively), or a .zip / .tar.gz / .tgz / .tar
of many (``import_sources``). Files are read in worker processes (``import_pool``) and
stored by this process (``traitors.store.import_sink``): loose episode directories, or
Parquet shards once the run holds more than ``--shards-past`` games. The journal
(``import.jsonl``) makes the import resumable: the same command passes over the files
already stored. A file that is not a game of the format gets one line and is skipped; the
import goes on and exits 1. Only argparse (and the sweep command's threshold) is imported
at module level (fast start-up).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from traitors.commands.run import COMPACT_AT

if TYPE_CHECKING:
    from collections.abc import Iterator

    from traitors.commands.import_pool import Result
    from traitors.commands.import_progress import ImportProgress
    from traitors.commands.import_sources import Sources, Task
    from traitors.store.import_sink import ImportSink
    from traitors.store.imported import Importer

SPOOL = ".import-spool"
"""Where archive members are copied for the workers (removed at the end)."""
EXIT_INTERRUPTED = 130


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``import`` subcommand; its handler is :func:`run`."""
    parser = subparsers.add_parser(
        "import",
        help="read games played elsewhere (a game's importer) into episode dirs",
        description=(
            "Read every game in PATH (a file, a directory of them, or a .zip/.tar.gz of many) "
            "with the importer of FORMAT, in worker processes, into --out (default "
            "runs/import-<format>-<time>): one episode directory per game, or Parquet shards "
            "once the run holds more than --shards-past games. A file that is not a game of "
            "FORMAT gets one line and is skipped; the exit code is then 1. The same command "
            "resumes an interrupted import (the journal import.jsonl names the files stored); "
            "importing a file again keeps its episode (same id)."
        ),
    )
    parser.add_argument("format", metavar="FORMAT", help="an installed importer")
    parser.add_argument("paths", type=Path, nargs="+", metavar="PATH", help="files to import")
    parser.add_argument("--out", type=Path, metavar="DIR", help="output directory")
    parser.add_argument(
        "--workers",
        type=_positive,
        default=_cpus(),
        metavar="N",
        help="worker processes reading files (default: the CPU count, %(default)s here)",
    )
    parser.add_argument(
        "--shards-past",
        type=_positive,
        default=COMPACT_AT,
        metavar="N",
        help="store games in Parquet shards once the run holds more than N (default %(default)s)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``traitors import``: 0 when every file was imported, 1 if any was skipped or the
    import stopped, 130 if interrupted (the same command resumes)."""
    import shlex

    from traitors.game import registry

    importer: Importer = registry.lookup("importer", args.format)
    out: Path = args.out or Path("runs") / f"import-{args.format}-{time.strftime('%Y%m%d-%H%M%S')}"
    words = ["traitors", "import", args.format, *map(str, args.paths), "--out", str(out)]
    if args.shards_past != COMPACT_AT:
        words += ["--shards-past", str(args.shards_past)]
    command = shlex.join(words)
    return import_games(importer, args.paths, out, args.workers, args.shards_past, command)


def import_games(
    importer: Importer,
    paths: list[Path],
    out: Path,
    workers: int,
    shards_past: int,
    command: str,
) -> int:
    """Import the games under ``paths`` into ``out``; ``command`` is what resumes it. The
    exit code of :func:`run`."""
    import shutil
    from concurrent.futures.process import BrokenProcessPool

    from rich.console import Console

    from traitors.commands.import_pool import Readers
    from traitors.commands.import_progress import ImportProgress
    from traitors.commands.import_sources import Sources
    from traitors.commands.run import sigterm_as_interrupt
    from traitors.store.import_sink import ImportSink, ShardError
    from traitors.store.imported import clear_temp
    from traitors.util.text import printable

    started = time.perf_counter()
    try:
        clear_temp(out)
        sink = ImportSink(out, shards_past)
    except OSError as exc:
        print(f"cannot import into {printable(str(out))}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    stopped = None
    with ImportProgress(Console(stderr=True)) as progress:
        sources = Sources(
            paths, out / SPOOL, sink.passes, lambda label, why: _skip(label, why, progress)
        )
        try:
            with sigterm_as_interrupt(), Readers(importer, workers) as readers:
                for result in readers.results(_announced(sources, sink, progress)):
                    _store(result, sink, progress)
        except KeyboardInterrupt:
            stopped = "interrupted"
        except BrokenProcessPool:
            stopped = "stopped: a worker process died"
        except ShardError as exc:
            stopped = f"stopped: {exc}"
        finally:
            try:
                sink.close()
            except ShardError as exc:
                stopped = f"stopped: {exc}"
            shutil.rmtree(out / SPOOL, ignore_errors=True)
    counts = progress.counts
    elapsed = time.perf_counter() - started
    games = counts["complete"] + counts["degraded"]
    shards = f" ({sink.shards} new shard(s))" if sink.shards else ""
    print(
        f"imported {games} game(s) into {printable(str(out))}{shards} in {elapsed:.1f} s: "
        f"{counts['complete']} complete, {counts['degraded']} degraded; "
        f"{counts['kept']} already there; {counts['skipped']} file(s) skipped"
    )
    if stopped is not None:
        print(f"{stopped}; the same command resumes:\n  {printable(command)}", file=sys.stderr)
        return EXIT_INTERRUPTED if stopped == "interrupted" else 1
    return 1 if counts["skipped"] else 0


def _announced(sources: Sources, sink: ImportSink, progress: ImportProgress) -> Iterator[Task]:
    """The tasks of ``sources``; as files are found (or passed over: stored by an earlier
    run), the progress and the sink are told."""
    passed = 0

    def tell() -> None:
        nonlocal passed
        progress.found(sources.found + sources.passed)
        if sources.passed > passed:
            progress.settle("kept", sources.passed - passed)
            passed = sources.passed
        sink.expect(sources.found)

    for task in sources:
        tell()
        yield task
    tell()


def _store(result: Result, sink: ImportSink, progress: ImportProgress) -> None:
    """Store the game of ``result``, or say why its file is skipped."""
    from traitors.util.text import printable

    task, game = result.task, result.game
    if game is None:
        _skip(task.label, result.error or "", progress)
        return
    try:
        added = sink.add(task.label, task.stamp, game)
    except OSError as exc:
        _skip(task.label, f"cannot write its episode: {exc.strerror or exc}", progress)
        return
    if not added:
        progress.settle("kept")
        return
    status = game.status if game.status in ("complete", "degraded") else "degraded"
    progress.settle(status)
    if game.status != "complete":
        print(f"{game.status} {printable(task.label)}: {printable(game.status_reason or '')}")


def _skip(label: str, reason: str, progress: ImportProgress) -> None:
    from traitors.util.text import printable

    progress.settle("skipped")
    print(f"skipped {printable(label)}: {printable(reason)}", file=sys.stderr)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be at least 1")
    return value


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
